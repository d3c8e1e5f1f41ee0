import { errors } from 'undici';
import { describe, expect, it } from 'vitest';
import {
  releaseBody,
  takeBodyText,
  translateTransportError,
  type OdooHttpResponse,
} from './odoo-http.js';
import { decodeMethodResponse } from './xmlrpc-decoder.js';

const MIB = 1_048_576;

function answer(body: Buffer): OdooHttpResponse {
  return { status: 200, contentType: 'text/xml', body };
}

describe('releaseBody', () => {
  it("frees an answer's bytes at once when the body owns its memory", () => {
    const body = Buffer.allocUnsafe(MIB);
    const memory = body.buffer;
    const response = answer(body);
    releaseBody(response);
    expect(memory.byteLength).toBe(0);
    expect(response.body.length).toBe(0);
  });

  it('leaves memory shared with other buffers, and small bodies, to the garbage collector', () => {
    const whole = Buffer.alloc(2 * MIB, 1);
    releaseBody(answer(whole.subarray(0, MIB)));
    expect(whole.length).toBe(2 * MIB);
    expect(whole[2 * MIB - 1]).toBe(1);

    const small = Buffer.from('<?xml version="1.0"?>');
    const pool = small.buffer;
    const poolBytes = pool.byteLength;
    releaseBody(answer(small));
    expect(pool.byteLength).toBe(poolBytes);
  });

  it('keeps every decoded value whole once the answer is freed', () => {
    const long = 'é'.repeat(70_000);
    const body = Buffer.from(
      `<?xml version="1.0"?><methodResponse><params><param><value><array><data>` +
        `<value><string>${long}</string></value><value><base64>AAEC</base64></value>` +
        `</data></array></value></param></params></methodResponse>`,
    );
    const response = answer(body);
    const decoded = decodeMethodResponse(response.body);
    releaseBody(response);
    expect(body.length).toBe(0);
    expect(decoded).toEqual({ fault: false, value: [long, Buffer.from([0, 1, 2])] });
  });

  it('takeBodyText gives the text and frees the bytes', () => {
    const text = JSON.stringify({ result: 'x'.repeat(MIB) });
    const body = Buffer.from(text);
    const response = answer(body);
    expect(takeBodyText(response)).toBe(text);
    expect(body.length).toBe(0);
  });
});

describe('translateTransportError', () => {
  it("names the attempt's bound when undici's own timer fires before the attempt's", () => {
    const error = translateTransportError(
      new errors.HeadersTimeoutError(),
      'dimagaz.bc.search_count',
      new AbortController().signal,
      2_000,
    );
    expect(error.code).toBe('ODOO_TIMEOUT');
    expect(error.retryable).toBe(true);
    expect(error.message).toBe(
      'dimagaz.bc.search_count timed out after 2000 ms (UND_ERR_HEADERS_TIMEOUT)',
    );
  });
});

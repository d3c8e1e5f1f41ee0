/**
 * Raw-wire helpers for the sandbox conformance tests: an XML-RPC call as exact text, and its
 * decoded value or fault.
 */
import { request } from 'undici';
import { expect } from 'vitest';
import { decodeMethodResponse } from '../../src/clients/odoo/xmlrpc-decoder.js';
import { serializeMethodCall } from '../../src/clients/odoo/xmlrpc-transport.js';
import type { SandboxHarness } from './sandbox-harness.js';

/** The helpers, bound to the harness a test file started (read lazily: it starts in beforeAll). */
export function sandboxWire(get: () => SandboxHarness) {
  async function post(path: string, body: string, headers: Record<string, string> = {}) {
    const response = await request(`${get().sandbox.url}${path}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'text/xml', ...headers },
    });
    return {
      status: response.statusCode,
      type: String(response.headers['content-type']),
      body: await response.body.text(),
    };
  }

  /** A raw XML-RPC call: the exact answer text. */
  async function xml(service: string, method: string, params: unknown[]): Promise<string> {
    const answer = await post(`/xmlrpc/2/${service}`, serializeMethodCall(method, params));
    expect(answer.status).toBe(200);
    expect(answer.type).toMatch(/^text\/xml/);
    return answer.body;
  }

  function executeKw(
    model: string,
    method: string,
    args: unknown[],
    kwargs: Record<string, unknown> = {},
    password?: string,
  ) {
    const { sandbox } = get();
    return xml('object', 'execute_kw', [
      sandbox.database,
      sandbox.uid,
      password ?? sandbox.password,
      model,
      method,
      args,
      kwargs,
    ]);
  }

  async function value(answer: Promise<string>): Promise<unknown> {
    const decoded = decodeMethodResponse(await answer);
    if (decoded.fault)
      throw new Error(
        `unexpected fault ${String(decoded.faultCode)}: ${String(decoded.faultString)}`,
      );
    return decoded.value;
  }

  async function fault(
    answer: Promise<string>,
  ): Promise<{ faultCode: unknown; faultString: string }> {
    const decoded = decodeMethodResponse(await answer);
    if (!decoded.fault) throw new Error('expected a fault');
    return { faultCode: decoded.faultCode, faultString: String(decoded.faultString) };
  }

  return { post, xml, executeKw, value, fault };
}

/**
 * The `xmlrpc` package's own response parser (sax-based), behind the same result shape as our
 * decoder. It is the reference the differential tests compare against and the baseline the
 * codec benchmark measures; the client never uses it (it decodes ~2,200 records/s).
 */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { XmlRpcResponse } from '../../src/clients/odoo/xmlrpc-decoder.js';

interface XmlRpcDeserializer {
  deserializeMethodResponse(
    stream: Readable,
    callback: (error: unknown, value: unknown) => void,
  ): void;
}

const Deserializer = createRequire(import.meta.url)(
  'xmlrpc/lib/deserializer.js',
) as new () => XmlRpcDeserializer;

/** Decodes a `<methodResponse>` with the `xmlrpc` package; rejects with its own parse errors. */
export function decodeWithXmlrpcPackage(xml: string): Promise<XmlRpcResponse> {
  return new Promise((resolve, reject) => {
    let settled = false;
    new Deserializer().deserializeMethodResponse(Readable.from([xml]), (error, value) => {
      if (settled) return;
      settled = true;
      if (error === null || error === undefined) {
        resolve({ fault: false, value });
        return;
      }
      const fault = error as { faultCode?: unknown; faultString?: unknown };
      if (error instanceof Error && 'faultCode' in fault) {
        resolve({ fault: true, faultCode: fault.faultCode, faultString: fault.faultString });
      } else {
        reject(
          error instanceof Error ? error : new Error(`xmlrpc deserializer failed: ${typeof error}`),
        );
      }
    });
  });
}

/**
 * The XML-RPC transport: `/xmlrpc/2/common` and `/xmlrpc/2/object`, requests built by the
 * `xmlrpc` package's serializer, answers read by our own decoder (the package's parser is too
 * slow for record pages; see xmlrpc-decoder.ts).
 *
 * Faults come back as HTTP 200 and become `OdooError`s by faultCode; any other status, and an
 * HTML page in place of XML, are reported as what they are, never as XML parse errors.
 */
import { createRequire } from 'node:module';
import {
  checkHttpResponse,
  sendOdooRequest,
  splitUrl,
  type OdooTransportSettings,
} from './odoo-http.js';
import { decodeAnswer } from './large-texts.js';
import { faultToError } from './odoo-errors.js';
import type { OdooRequestOptions, OdooTransport } from './odoo-types.js';
import { createServiceTransport } from './service-transport.js';
import { decodeMethodResponse } from './xmlrpc-decoder.js';

interface XmlRpcSerializer {
  serializeMethodCall(method: string, params: unknown[]): string;
}

// The package's serializer module has no typings of its own (only the client/server API does).
const serializer = createRequire(import.meta.url)('xmlrpc/lib/serializer.js') as XmlRpcSerializer;

/** Builds the XML of a method call exactly as the `xmlrpc` package does. */
export function serializeMethodCall(method: string, params: readonly unknown[]): string {
  return serializer.serializeMethodCall(method, [...params]);
}

export function createXmlRpcTransport(settings: OdooTransportSettings): OdooTransport {
  const { origin, basePath } = splitUrl(settings.url);
  const { database, username, secret, dispatcher } = settings;

  async function call(
    service: 'common' | 'object',
    method: string,
    params: unknown[],
    label: string,
    options: OdooRequestOptions,
  ): Promise<unknown> {
    const response = await sendOdooRequest(
      dispatcher,
      origin,
      {
        method: 'POST',
        path: `${basePath}/xmlrpc/2/${service}`,
        headers: { 'content-type': 'text/xml', accept: 'text/xml', 'user-agent': 'erp-bridge' },
        body: serializeMethodCall(method, params),
      },
      label,
      options,
    );
    checkHttpResponse(response, label, 'XML-RPC');
    const valueOf = (body: Buffer) => {
      const decoded = decodeMethodResponse(body);
      if (decoded.fault)
        throw faultToError(label, decoded.faultCode, decoded.faultString, secret());
      return decoded.value;
    };
    return decodeAnswer(response, 'xml', options.largeTexts, valueOf);
  }

  return createServiceTransport('xmlrpc', { database, username, secret }, call);
}

/**
 * `/xmlrpc/2/<service>`: a `<methodCall>` in, a `<methodResponse>` out; every Odoo error is a
 * `<fault>` with HTTP 200, a body that does not parse is expat's error as a fault.
 */
import { decodeMethodCall } from '../../src/clients/odoo/xmlrpc-decoder.js';
import { XML_TYPE, type Answer, type PreparedCall } from './sandbox-answer.js';
import {
  accessDenied,
  asOdooException,
  moduleError,
  toXmlRpcFault,
  type OdooException,
} from './sandbox-exceptions.js';
import type { RpcServices } from './sandbox-rpc-services.js';
import { marshalFault, marshalResponse } from './xmlrpc-marshaller.js';

export function prepareXmlRpc(
  rpc: RpcServices,
  address: string,
  service: string,
  body: string,
): PreparedCall {
  const xmlFault = (exception: OdooException): Answer => {
    const [code, text] = toXmlRpcFault(exception);
    return { status: 200, contentType: XML_TYPE, body: marshalFault(code, text) };
  };
  let methodName = '';
  let params: unknown[] = [];
  let parseError: OdooException | undefined;
  try {
    ({ methodName, params } = decodeMethodCall(body));
  } catch (error) {
    parseError = moduleError(
      'xml.parsers.expat.ExpatError',
      `syntax error: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const info = rpc.callInfo('xmlrpc', service, methodName, params);
  return {
    info,
    database: rpc.databaseOf(service, methodName, params),
    run() {
      if (parseError !== undefined) return { result: undefined, answer: xmlFault(parseError) };
      try {
        const result = rpc.dispatch(address, service, methodName, params);
        return {
          result,
          answer: { status: 200, contentType: XML_TYPE, body: marshalResponse(result) },
        };
      } catch (error) {
        return { result: undefined, answer: xmlFault(asOdooException(error)) };
      }
    },
    fail: xmlFault,
    refuse: () =>
      info.method === 'authenticate' || info.method === 'login'
        ? { status: 200, contentType: XML_TYPE, body: marshalResponse(false) }
        : xmlFault(accessDenied()),
  };
}

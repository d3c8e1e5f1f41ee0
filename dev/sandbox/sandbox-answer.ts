/** What every wire protocol of the sandbox hands the HTTP layer: a prepared call and its answer. */
import type { OdooException } from './sandbox-exceptions.js';
import type { SandboxCallInfo } from './sandbox-faults.js';

export const XML_TYPE = 'text/xml; charset=utf-8';
export const JSON_TYPE = 'application/json; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';

/** A prepared answer. */
export interface Answer {
  status: number;
  contentType: string;
  body: string;
  /** More headers (an ETag). */
  headers?: Record<string, string>;
}

/** A parsed request: what to count and match, and how to run it. */
export interface PreparedCall {
  info: SandboxCallInfo;
  /** The database the call names in its parameters (XML-RPC, JSON-RPC), if it names one. */
  database?: unknown;
  /** Runs the call and returns its result value (for record-fault checks) and answer. */
  run(): { result: unknown; answer: Answer };
  /** The answer for an exception raised by an injected fault. */
  fail(exception: OdooException): Answer;
  /** The answer of an `auth` fault: authenticate says False, others are refused. */
  refuse(): Answer;
}

/** Werkzeug's error page, or nginx's when `text` is 'nginx' (a proxy in front of a dead Odoo). */
export function htmlAnswer(status: number, title: string, text: string): Answer {
  const body =
    text === 'nginx'
      ? `<html>\r\n<head><title>${status} ${title}</title></head>\r\n<body>\r\n<center><h1>${status} ${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`
      : `<!doctype html>\n<html lang=en>\n<title>${status} ${title}</title>\n<h1>${title}</h1>\n<p>${text}</p>\n`;
  return { status, contentType: HTML_TYPE, body };
}

/** The ids a record method is called on (its first argument), when they are plain ids. */
export function idsOf(args: unknown): number[] | undefined {
  const first = Array.isArray(args) ? (args as unknown[])[0] : args;
  if (typeof first === 'number') return [first];
  if (Array.isArray(first) && first.every((id) => typeof id === 'number')) return first;
  return undefined;
}

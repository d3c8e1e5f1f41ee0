/**
 * Odoo's XML-RPC answers, byte for byte as `OdooMarshaller(allow_none=False)` writes them:
 * strings always in `<string>` with only `& < >` escaped and control characters stripped,
 * `<double>` with Python's repr, `<boolean>1|0</boolean>`, ints outside int32 refused
 * (OverflowError), `None` refused (TypeError), one value per line.
 *
 * Built with string concatenation for speed: the sandbox serves hundreds of thousands of
 * records per benchmark run, and a generic XML builder would be its bottleneck.
 */
import { PyFloat, RecordList, pyFloatRepr, type PyValue } from './python-values.js';
import { formatOdooDatetime } from './sandbox-time.js';
import { pythonError, type OdooException } from './sandbox-exceptions.js';

const HEAD = '<?xml version="1.0"?>\n<methodResponse>\n';
const TAIL = '\n</methodResponse>\n';
const MAXINT = 2 ** 31 - 1;
const MININT = -(2 ** 31);

// Control characters 0–31 except tab, newline and carriage return (Odoo 17+ strips them).
// eslint-disable-next-line no-control-regex -- these characters are the point
const CONTROL_CHARACTERS = /[\x00-\x08\x0b\x0c\x0e-\x1f]/g;
// eslint-disable-next-line no-control-regex -- these characters are the point
const NEEDS_WORK = /[&<>\x00-\x08\x0b\x0c\x0e-\x1f]/;

/** A successful answer carrying `value`. @throws OdooException as Python's marshaller would. */
export function marshalResponse(value: PyValue): string {
  return `${HEAD}<params>\n<param>\n${dump(value)}</param>\n</params>\n${TAIL}`;
}

/** A fault answer. */
export function marshalFault(faultCode: number, faultString: string): string {
  return `${HEAD}<fault>\n${dump({ faultCode, faultString })}</fault>\n${TAIL}`;
}

/** Python's `xmlrpc.client.escape` after Odoo's control-character stripping. */
export function escapeXmlText(text: string): string {
  if (!NEEDS_WORK.test(text)) return text;
  return text
    .replace(CONTROL_CHARACTERS, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** One value as the marshaller writes it (`<value>…</value>\n`). */
export function marshalValue(value: PyValue): string {
  return dump(value);
}

function dump(value: PyValue): string {
  switch (typeof value) {
    case 'string':
      return `<value><string>${escapeXmlText(value)}</string></value>\n`;
    case 'number':
      if (Number.isInteger(value)) {
        if (value > MAXINT || value < MININT)
          throw pythonError('OverflowError', 'int exceeds XML-RPC limits');
        return `<value><int>${value}</int></value>\n`;
      }
      return `<value><double>${pyFloatRepr(value)}</double></value>\n`;
    case 'boolean':
      return value
        ? '<value><boolean>1</boolean></value>\n'
        : '<value><boolean>0</boolean></value>\n';
    case 'undefined':
      throw noneError();
    default:
      break;
  }
  if (value === null) throw noneError();
  if (value instanceof RecordList) return value.toXmlRpc();
  if (value instanceof PyFloat)
    return `<value><double>${pyFloatRepr(value.value)}</double></value>\n`;
  if (Array.isArray(value)) {
    let out = '<value><array><data>\n';
    for (const item of value as readonly PyValue[]) out += dump(item);
    return `${out}</data></array></value>\n`;
  }
  // Odoo marshals bytes and datetimes as strings (historical compatibility), never base64/dateTime.
  if (Buffer.isBuffer(value)) return dump(value.toString('utf8'));
  if (value instanceof Date) return dump(formatOdooDatetime(value.getTime() * 1000));
  let out = '<value><struct>\n';
  const struct = value as { readonly [key: string]: PyValue };
  for (const key in struct) {
    out += `<member>\n<name>${escapeXmlText(key)}</name>\n${dump(struct[key])}</member>\n`;
  }
  return `${out}</struct></value>\n`;
}

function noneError(): OdooException {
  return pythonError('TypeError', 'cannot marshal None unless allow_none is enabled');
}

/**
 * Python's `repr` of a value from a request, as Odoo's messages quote it: strings in Python's
 * quotes, `True`/`False`/`None`, a leaf as the tuple Odoo makes of it with lists inside it kept
 * as lists (`('nofield', 'in', [1, 2])`).
 */
export function pyRepr(value: unknown, tuple = false): string {
  if (typeof value === 'string') {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const escaped = value
      .replace(/\\/g, '\\\\')
      .replace(new RegExp(quote, 'g'), `\\${quote}`)
      .replace(/\n/g, '\\n')
      .replace(/\r/g, '\\r')
      .replace(/\t/g, '\\t');
    return `${quote}${escaped}${quote}`;
  }
  if (Array.isArray(value)) {
    const items = value.map((item) => pyRepr(item));
    return tuple
      ? `(${items.join(', ')}${items.length === 1 ? ',' : ''})`
      : `[${items.join(', ')}]`;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date))
    return `{${Object.entries(value)
      .map(([key, item]) => `${pyRepr(key)}: ${pyRepr(item)}`)
      .join(', ')}}`;
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'number') return String(value);
  return value instanceof Date ? value.toISOString() : typeof value;
}

/** A short Python-like repr for messages. */
export function repr(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `(${value.map(repr).join(', ')})`;
  if (value === false) return 'False';
  if (value === true) return 'True';
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value) ?? typeof value;
}

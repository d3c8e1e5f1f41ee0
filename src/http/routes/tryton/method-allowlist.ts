/**
 * The gateway's method allowlist (`TRYTON_ALLOWED_METHODS`): which Tryton RPC methods the proxy
 * forwards. Patterns are dotted method names where `*` stands for one whole segment or a dotted
 * name made of several — a Tryton model name such as `party.party` or `account.invoice.line` —
 * so `model.*.search_read` allows `search_read` on every model, and never part of a segment.
 *
 * Not here: whether a method is safe to cache or replay (tryton-read-only-methods).
 */

import { AppError } from '../../../lib/errors.js';

const SEGMENT = '[A-Za-z0-9_]+';
const PATTERN_SYNTAX = /^(?:\*|[A-Za-z0-9_]+)(?:\.(?:\*|[A-Za-z0-9_]+))*$/;

/** A predicate telling whether a method matches one of the patterns. Throws on a malformed pattern. */
export function createMethodAllowlist(patterns: readonly string[]): (method: string) => boolean {
  const expressions = patterns
    .map((pattern) => pattern.trim())
    .filter((pattern) => pattern !== '')
    .map((pattern) => {
      if (!PATTERN_SYNTAX.test(pattern)) {
        throw new AppError(
          'TRYTON_BAD_METHOD_PATTERN',
          `invalid Tryton method pattern "${pattern}"`,
        );
      }
      const source = pattern
        .split('.')
        .map((segment) => (segment === '*' ? `${SEGMENT}(?:\\.${SEGMENT})*` : segment))
        .join('\\.');
      return new RegExp(`^${source}$`);
    });
  return (method) => expressions.some((expression) => expression.test(method));
}

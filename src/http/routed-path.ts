/**
 * A request's URL as the router (Fastify's find-my-way) reads it, for the checks made before it
 * routes (early-refusal.ts): the router decodes a path before it matches a route, so
 * `/health/%6cive` is the liveness probe and `/hooks/%6fdoo/<token>` Odoo's webhook, its token the
 * parameter decoded. A check that compared the raw URL decided otherwise than the route did. Once
 * a request is routed, hooks compare the route the router chose (`request.routeOptions.url`) and
 * its parameters instead.
 */
import { ODOO_WEBHOOK_PATH_PREFIX } from '../lib/redact-url.js';

/**
 * The path of `url` as the router matches it: decoded (decodeURI: `%2F` and the other reserved
 * characters stay escaped, and so no segment ends there), `%25` kept as it is (the router decodes
 * it in a parameter only); undefined when it cannot be decoded (the router answers 400).
 */
export function routedPath(url: string): string | undefined {
  const end = url.search(/[?#]/);
  const path = end < 0 ? url : url.slice(0, end);
  if (!path.includes('%')) return path;
  try {
    return decodeURI(path.replaceAll('%25', '%2525'));
  } catch {
    return undefined;
  }
}

/** The token of a URL the router takes to Odoo's webhook route, as its parameter holds it. */
export function webhookTokenOf(url: string): string | undefined {
  const path = routedPath(url);
  if (!path?.startsWith(ODOO_WEBHOOK_PATH_PREFIX)) return undefined;
  const segment = path.slice(ODOO_WEBHOOK_PATH_PREFIX.length);
  if (segment.length === 0 || segment.includes('/')) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

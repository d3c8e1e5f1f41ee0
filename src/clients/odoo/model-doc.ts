/**
 * A model's stored fields from Odoo 19's `/doc-bearer/<model>.json` (the `api_doc` module, read
 * with the JSON-2 bearer key), revalidated with `If-None-Match`: Odoo answers 304 while the
 * registry, the language and the user's groups are unchanged, so a schema refresh costs a tiny
 * answer instead of a `fields_get`.
 *
 * Odoo serves it only to users of the group "Technical Documentation" (`api_doc.group_allow_doc`):
 * on a 403, or an Odoo without the route (an HTML 404), the reader says so once and answers
 * `undefined` from then on, and the client asks `fields_get` as before; `onOutcome` hears why
 * (for status), and hears `null` at the first answer the route gives. It is not a general reader
 * of Odoo's API docs.
 */
import type { Logger } from '../../lib/logger.js';
import { faultToError, OdooError } from './odoo-errors.js';
import {
  bodyExcerpt,
  httpStatusError,
  isHtmlResponse,
  sendOdooRequest,
  splitUrl,
  type OdooTransportSettings,
} from './odoo-http.js';
import type { OdooFieldDescription, OdooRequestOptions, OdooStoredField } from './odoo-types.js';

/** `fields_get`'s descriptions → the stored fields with their types, sorted by name. */
export function toStoredFields(fields: Record<string, OdooFieldDescription>): OdooStoredField[] {
  return Object.entries(fields)
    .filter(([, description]) => description.store === true && typeof description.type === 'string')
    .map(([name, description]) => {
      const field: OdooStoredField = { name, type: description.type as OdooStoredField['type'] };
      if (typeof description.relation === 'string') field.relation = description.relation;
      if (typeof description.groups === 'string') field.groups = description.groups;
      if (field.type === 'one2many') {
        if (typeof description.relation_field === 'string')
          field.inverse = description.relation_field;
        if (isUnfiltered(description)) field.unfiltered = true;
      }
      return field;
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Whether a one2many's description shows neither a domain nor a context: Odoo reads such a
 * field's value by searching its targets on their inverse with `active_test` false. A domain
 * (a list, or text to evaluate) or a context that is missing from the description counts as one.
 */
function isUnfiltered(description: OdooFieldDescription): boolean {
  const { domain, context } = description;
  const noDomain = (Array.isArray(domain) && domain.length === 0) || domain === '[]';
  const noContext =
    (typeof context === 'object' && context !== null && Object.keys(context).length === 0) ||
    context === '{}';
  return noDomain && noContext;
}

export interface ModelDocReader {
  /** The stored fields, or undefined when the route cannot be used (ask `fields_get`). */
  storedFields(model: string, request: OdooRequestOptions): Promise<OdooStoredField[] | undefined>;
}

export function createModelDocReader(
  settings: OdooTransportSettings,
  logger: Logger,
  onOutcome?: (refusal: string | null) => void,
): ModelDocReader {
  const { origin, basePath } = splitUrl(settings.url);
  /** The last answer per model: Odoo's ETag and what it said. Bounded by the models copied. */
  const known = new Map<string, { etag: string; fields: OdooStoredField[] }>();
  let refused = false;
  let answered = false;

  function giveUp(why: string): undefined {
    refused = true;
    known.clear();
    onOutcome?.(why);
    logger.info(
      { route: '/doc-bearer/<model>.json' },
      `Odoo's model documentation is not readable here (${why}); schema refreshes ask fields_get`,
    );
    return undefined;
  }

  return {
    async storedFields(model, request) {
      if (refused) return undefined;
      const label = `${model}.doc`;
      const cached = known.get(model);
      const response = await sendOdooRequest(
        settings.dispatcher,
        origin,
        {
          method: 'GET',
          path: `${basePath}/doc-bearer/${encodeURIComponent(model)}.json`,
          headers: {
            authorization: `bearer ${settings.secret()}`,
            'x-odoo-database': settings.database,
            accept: 'application/json',
            'user-agent': 'erp-bridge',
            ...(cached === undefined ? {} : { 'if-none-match': cached.etag }),
          },
        },
        label,
        request,
      );
      const { status } = response;
      if ((status === 200 || status === 304) && !answered) {
        answered = true;
        onOutcome?.(null);
      }
      if (status === 304 && cached !== undefined) return cached.fields;
      if (status === 401)
        throw faultToError(label, 3, 'Invalid apikey', settings.secret(), { httpStatus: 401 });
      // 403: the user lacks the documentation group (or the model); the route is missing where
      // Odoo answers its HTML 404 page. A JSON 404 is an unknown model: fields_get says so.
      if (status === 403)
        return giveUp(
          'HTTP 403: the sync user is not in the group "Technical Documentation" (api_doc.group_allow_doc)',
        );
      if (status === 404)
        return isHtmlResponse(response) ? giveUp('HTTP 404: no api_doc module') : undefined;
      if (status !== 200) throw httpStatusError(response, label, 'JSON', isHtmlResponse(response));
      let document: { fields?: unknown };
      try {
        document = JSON.parse(response.body.toString('utf8')) as typeof document;
      } catch (error) {
        throw new OdooError('ODOO_PROTOCOL', `${label}: the answer is not valid JSON`, {
          cause: error,
          retryable: true,
        });
      }
      if (typeof document.fields !== 'object' || document.fields === null)
        throw new OdooError(
          'ODOO_PROTOCOL',
          `${label}: no fields in the answer: ${bodyExcerpt(response.body)}`,
        );
      const fields = toStoredFields(document.fields as Record<string, OdooFieldDescription>);
      const etag = response.etag;
      if (etag !== undefined) known.set(model, { etag, fields });
      return fields;
    },
  };
}

/**
 * What Odoo's "Send Webhook Notification" posts for a record (docs/odoo.md, Webhooks):
 * `{"_model", "_id", "_action", "id", <fields>}` where the fields are `record.read(fields,
 * load=None)` — a many2one a bare id, an x2many its ids, a datetime and a date as `str()` gives
 * them (`2025-06-02 10:00:00.250000`, microseconds only when there are some), a binary as
 * Python prints bytes (`b'iVBOR…'`), empties as false — serialized by
 * `json.dumps(payload, sort_keys=True, default=str)`.
 *
 * Fields the rule lists that the model does not have are left out (a rule's fields belong to its
 * model). Non-stored computed fields other than `display_name` are sent as false.
 */
import { PyFloat, pythonJsonDumps, type PyValue } from './python-values.js';
import type { Row } from './sandbox-domain.js';
import type { SandboxStore } from './sandbox-store.js';
import { formatOdooDatetime } from './sandbox-time.js';
import { translatedText } from './sandbox-translations.js';

export interface SandboxWebhookEvent {
  readonly _model: string;
  readonly _id: number;
  readonly _action: string;
  readonly id: number;
  readonly [field: string]: unknown;
}

/** One POST: the event as a receiver decodes it, and the exact body Odoo sends. */
export interface SandboxWebhookDelivery {
  readonly event: SandboxWebhookEvent;
  readonly body: string;
}

/** The rule's name and id, as Odoo writes `_action`. */
const ACTION = 'erp-bridge (#1)';

export function webhookDelivery(
  store: SandboxStore,
  model: string,
  row: Row,
  fields: readonly string[],
  lang: string,
): SandboxWebhookDelivery {
  const table = store.requireTable(model);
  const payload: Record<string, PyValue> = {
    _model: model,
    _id: row.id,
    _action: ACTION,
    id: row.id,
  };
  for (const name of fields) {
    const spec = table.fields.get(name);
    if (spec === undefined || name === 'id') continue;
    if (name === 'display_name') {
      payload[name] = store.displayNameOf(model, row, lang);
      continue;
    }
    // A company-dependent field's value is the record's own; other computed ones are not sent.
    if (spec.computed === true && !spec.store && spec.companyDependent !== true) {
      payload[name] = false;
      continue;
    }
    const value = row[name];
    switch (spec.type) {
      case 'integer':
        payload[name] = (value as number | null) ?? 0;
        break;
      case 'float':
      case 'monetary':
        payload[name] = new PyFloat((value as number | null) ?? 0);
        break;
      case 'boolean':
        payload[name] = value === true;
        break;
      case 'datetime':
        payload[name] = value === null ? false : pythonDatetime(value as number);
        break;
      case 'binary':
        payload[name] = value === null ? false : `b'${value as string}'`;
        break;
      case 'one2many':
      case 'many2many':
        payload[name] = store.x2manyIds(model, spec, row, lang);
        break;
      default:
        payload[name] =
          spec.translate === true
            ? (translatedText(value, lang) ?? false)
            : ((value as PyValue | undefined) ?? false);
    }
  }
  return { event: plain(payload) as SandboxWebhookEvent, body: pythonJsonDumps(payload) };
}

/** `str(datetime)`: seconds, and the microseconds only when there are some. */
function pythonDatetime(micros: number): string {
  const fraction = ((micros % 1_000_000) + 1_000_000) % 1_000_000;
  return fraction === 0
    ? formatOdooDatetime(micros)
    : `${formatOdooDatetime(micros)}.${String(fraction).padStart(6, '0')}`;
}

function plain(payload: Record<string, PyValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload))
    out[key] = value instanceof PyFloat ? value.value : value;
  return out;
}

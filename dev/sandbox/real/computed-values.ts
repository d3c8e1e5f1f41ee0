/**
 * The values of the fields a record does not hold, for models loaded from dumps: related fields
 * follow their path, company-dependent ones are the record's own (the sandbox has one company),
 * the mixins' computes Odoo gives every thread are computed from the rows they depend on
 * (`message_partner_ids` from the followers, `has_message`, `activity_state` from the
 * activities…), a few of `res.partner`'s own; any other non-stored field reads empty, as a
 * compute with nothing to compute from gives. Values are internal (a many2one as its id, an
 * x2many as its ids, a date as `YYYY-MM-DD`), read and searched like stored ones.
 */
import type { FieldSpec } from '../models/field-spec.js';
import { UID } from '../sandbox-auth.js';
import type { Row } from '../sandbox-domain.js';
import type { SandboxTable, SandboxTables } from '../sandbox-tables.js';
import { formatOdooDate } from '../sandbox-time.js';
import { translatedText } from '../sandbox-translations.js';
import { ACTIVITY_MODEL, FOLLOWERS_MODEL, MESSAGE_MODEL, threadRows } from './mail-threads.js';
import { followPath } from './related-fields.js';

type Compute = (tables: SandboxTables, table: SandboxTable, row: Row) => unknown;

export function computeValue(
  tables: SandboxTables,
  table: SandboxTable,
  field: FieldSpec,
  row: Row,
): unknown {
  if (field.companyDependent === true) return row[field.name] ?? null;
  if (field.related !== undefined) {
    const value = followPath(tables, table, row, field.related, computeValue);
    return value === undefined ? emptyOf(field) : value;
  }
  const compute = COMPUTES.get(field.name);
  return compute === undefined ? emptyOf(field) : compute(tables, table, row);
}

function emptyOf(field: FieldSpec): unknown {
  return field.type === 'one2many' || field.type === 'many2many' ? [] : null;
}

const followers = (tables: SandboxTables, table: SandboxTable, row: Row): Row[] =>
  threadRows(tables, FOLLOWERS_MODEL, table.spec.name, row.id);

/** The record's active activities, soonest first (`mail.activity`'s `_order`). */
function activities(tables: SandboxTables, table: SandboxTable, row: Row): Row[] {
  const comodel = tables.table(ACTIVITY_MODEL);
  if (comodel === undefined) return [];
  return threadRows(tables, ACTIVITY_MODEL, table.spec.name, row.id)
    .filter((activity) => activity.active !== false)
    .sort(tables.order(comodel).compare);
}

/** The partner of the API user, when the users' model links one. */
function userPartner(tables: SandboxTables): number | undefined {
  const partner = tables.table('res.users')?.rows.get(UID)?.partner_id;
  return typeof partner === 'number' ? partner : undefined;
}

function activityState(tables: SandboxTables, table: SandboxTable, row: Row): string | null {
  const first = activities(tables, table, row)[0];
  if (first === undefined) return null;
  // Odoo compares in the user's time zone; the sandbox's day is UTC.
  const today = formatOdooDate(tables.nowMicros());
  const deadline = first.date_deadline as string;
  return deadline < today ? 'overdue' : deadline === today ? 'today' : 'planned';
}

/** An avatar when the record has no image: an SVG with its initial, as Odoo draws one. */
function avatar(size: string): Compute {
  return (tables, table, row) => {
    const image = row[`image_${size}`];
    if (typeof image === 'string') return image;
    const name = translatedText(row[table.spec.recName ?? 'name'], 'en_US') ?? '?';
    const svg =
      '<?xml version="1.0" encoding="UTF-8" standalone="no"?>' +
      "<svg xmlns='http://www.w3.org/2000/svg' width='180' height='180'>" +
      "<rect fill='hsl(200, 40%, 45%)' height='180' width='180'/>" +
      `<text fill='#ffffff' font-size='96' text-anchor='middle' x='90' y='125' font-family='sans-serif'>${escapeXml(Array.from(name)[0] ?? '?')}</text></svg>`;
    return Buffer.from(svg, 'utf8').toString('base64');
  };
}

function escapeXml(text: string): string {
  return text.replace(/[&<>'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const COMPUTES: ReadonlyMap<string, Compute> = new Map(
  Object.entries<Compute>({
    message_partner_ids: (tables, table, row) =>
      followers(tables, table, row).map((follower) => follower.partner_id as number),
    message_is_follower: (tables, table, row) => {
      const partner = userPartner(tables);
      return followers(tables, table, row).some((follower) => follower.partner_id === partner);
    },
    has_message: (tables, table, row) =>
      threadRows(tables, MESSAGE_MODEL, table.spec.name, row.id).length > 0,
    activity_state: activityState,
    activity_user_id: (tables, table, row) => activities(tables, table, row)[0]?.user_id ?? null,
    activity_date_deadline: (tables, table, row) =>
      activities(tables, table, row)[0]?.date_deadline ?? null,
    my_activity_date_deadline: (tables, table, row) =>
      activities(tables, table, row).find((activity) => activity.user_id === UID)?.date_deadline ??
      null,
    company_type: (_tables, _table, row) => (row.is_company === true ? 'company' : 'person'),
    email_formatted: (_tables, _table, row) =>
      typeof row.email === 'string'
        ? `"${translatedText(row.name, 'en_US') ?? ''}" <${row.email}>`
        : null,
    self: (_tables, _table, row) => row.id,
    avatar_1920: avatar('1920'),
    avatar_1024: avatar('1024'),
    avatar_512: avatar('512'),
    avatar_256: avatar('256'),
    avatar_128: avatar('128'),
  }),
);

/**
 * The followers, messages and activities of every record of a thread model loaded from a dump
 * (mail-threads.ts), generated after the records: 0 to 3 followers (distinct partners), the
 * "created" notification and 0 to 3 more messages of every kind — `user_notification` ones
 * among them, which `message_ids`' domain leaves out — and an activity or two on a third of the
 * records, some overdue. Messages get their ids in date order, as a real database gives them.
 */
import { secondsOnly, DAY_MICROS } from '../data/data-time.js';
import type { SeededRandom } from '../data/seeded-random.js';
import type { SandboxStore } from '../sandbox-store.js';
import type { SandboxTable } from '../sandbox-tables.js';
import { formatOdooDate } from '../sandbox-time.js';
import { distinct, genericValues } from './field-values.js';
import { ACTIVITY_MODEL, FOLLOWERS_MODEL, isThreadModel, MESSAGE_MODEL } from './mail-threads.js';

const MESSAGE_TYPES: ReadonlyArray<readonly [string, number]> = [
  ['comment', 0.5],
  ['email', 0.2],
  ['email_outgoing', 0.1],
  ['notification', 0.1],
  ['user_notification', 0.1],
];
const BODIES = [
  '<p>Merci pour votre commande &amp; à bientôt</p>',
  '<p>Relance : facture <strong>en retard</strong></p>',
  '<p>⚠ Bouteilles &lt; 12 kg en rupture</p>',
  '',
];
const SUMMARIES = ['Appeler le client', 'Relancer la facture', 'Vérifier la livraison'];

interface PendingMessage {
  readonly values: Record<string, unknown>;
  readonly date: number;
}

/** Followers, messages and activities of every record of the loaded thread models. */
export function generateMailData(
  store: SandboxStore,
  random: SeededRandom,
  nowMicros: number,
): void {
  const followers = store.table(FOLLOWERS_MODEL);
  const messages = store.table(MESSAGE_MODEL);
  const activities = store.table(ACTIVITY_MODEL);
  const partners = store.requireTable('res.partner');
  const livePartners = partners.ids.filter((id) => partners.rows.get(id)?.active !== false);
  const users = store.requireTable('res.users').ids;
  const pending: PendingMessage[] = [];
  for (const model of store.models()) {
    const table = store.requireTable(model);
    if (table.spec.release !== '17.0' || !isThreadModel(table.spec.mixins)) continue;
    for (const id of table.ids) {
      const row = table.rows.get(id);
      if (row === undefined) continue;
      const created = (row.create_date as number | null) ?? nowMicros - 30 * DAY_MICROS;
      if (followers !== undefined)
        for (const partner of distinct(random, livePartners, random.int(0, 3)))
          store.insertSeedRow(FOLLOWERS_MODEL, {
            ...generic(store, followers, random, followers.nextId, created),
            id: followers.nextId,
            res_model: model,
            res_id: id,
            partner_id: partner,
            subtype_ids: [subtype(store, 'Discussions')].filter((id) => id !== null),
          });
      if (messages !== undefined)
        pending.push(...threadMessages(store, random, table, id, created, nowMicros, livePartners));
      if (activities !== undefined && random.chance(1 / 3))
        for (let n = random.int(1, 2); n > 0; n--)
          store.insertSeedRow(ACTIVITY_MODEL, {
            ...generic(store, activities, random, activities.nextId, created),
            ...activity(store, random, model, id, nowMicros, users),
            id: activities.nextId,
          });
    }
  }
  pending.sort((a, b) => a.date - b.date);
  for (const message of pending)
    store.insertSeedRow(MESSAGE_MODEL, {
      ...message.values,
      id: (messages as SandboxTable).nextId,
    });
  if (activities !== undefined) store.recomputeStored(ACTIVITY_MODEL, activities.ids);
}

/** Generic values for every field of the mail record (what follows overrides them). */
function generic(
  store: SandboxStore,
  table: SandboxTable,
  random: SeededRandom,
  id: number,
  created: number,
): Record<string, unknown> {
  return genericValues(table, { random, tables: store, createdMicros: created, id });
}

function threadMessages(
  store: SandboxStore,
  random: SeededRandom,
  table: SandboxTable,
  id: number,
  created: number,
  nowMicros: number,
  partners: readonly number[],
): PendingMessage[] {
  const messages = store.requireTable(MESSAGE_MODEL);
  const recordName = store.displayName(table.spec.name, id) || null;
  const out: PendingMessage[] = [];
  const count = 1 + random.int(0, 3);
  for (let n = 0; n < count; n++) {
    const first = n === 0;
    const date = first
      ? secondsOnly(created)
      : secondsOnly(created + Math.floor(random.next() * Math.max(nowMicros - created, 1)));
    const author = partners.length === 0 ? null : random.pick(partners);
    const type = first ? 'notification' : random.pick(MESSAGE_TYPES.map(([kind]) => kind));
    out.push({
      date,
      values: {
        ...generic(store, messages, random, 0, date),
        pinned_at: null,
        model: table.spec.name,
        res_id: id,
        // Odoo names the record on messages posted to it, not on its creation notice.
        record_name: first ? null : recordName,
        subtype_id: subtype(store, first || type === 'comment' ? 'Note' : 'Discussions'),
        message_type: type,
        body: first ? `<p>${table.spec.description} created</p>` : random.pick(BODIES),
        subject: null,
        author_id: author,
        email_from: null,
        parent_id: null,
        partner_ids: [],
        notified_partner_ids: [],
        starred_partner_ids: [],
        attachment_ids: [],
        message_id: `<${id}.${date}.${n}@sandbox>`,
        is_internal: type === 'notification',
        date,
        create_date: date,
        write_date: date,
        create_uid: first ? 2 : 1,
        write_uid: first ? 2 : 1,
      },
    });
  }
  return out;
}

function activity(
  store: SandboxStore,
  random: SeededRandom,
  model: string,
  id: number,
  nowMicros: number,
  users: readonly number[],
): Record<string, unknown> {
  const stamp = secondsOnly(nowMicros - random.int(1, 20) * DAY_MICROS);
  return {
    res_model_id: irModel(store, model),
    res_id: id,
    res_name: store.displayName(model, id) || null,
    activity_type_id: null,
    summary: random.pick(SUMMARIES),
    note: random.chance(0.5) ? null : '<p>Voir le dossier &amp; rappeler</p>',
    date_deadline: formatOdooDate(nowMicros + random.int(-10, 20) * DAY_MICROS),
    date_done: null,
    automated: false,
    attachment_ids: [],
    user_id: users.length === 0 ? null : random.pick(users),
    request_partner_id: null,
    recommended_activity_type_id: null,
    previous_activity_type_id: null,
    active: true,
    create_date: stamp,
    write_date: stamp,
    create_uid: 2,
    write_uid: 2,
  };
}

/** A message subtype by name, made in the `mail.message.subtype` stub when missing. */
function subtype(store: SandboxStore, name: string): number | null {
  const subtypes = store.table('mail.message.subtype');
  if (subtypes === undefined) return null;
  const found = subtypes.ids.find((id) => subtypes.rows.get(id)?.name === name);
  if (found !== undefined) return found;
  const id = subtypes.nextId;
  store.insertSeedRow('mail.message.subtype', { id, name });
  return id;
}

/** The `ir.model` record of `model` (activities point at it), made in the stub when missing. */
export function irModel(store: SandboxStore, model: string): number {
  const models = store.requireTable('ir.model');
  const found = models.ids.find((id) => models.rows.get(id)?.model === model);
  if (found !== undefined) return found;
  const id = models.nextId;
  store.insertSeedRow('ir.model', {
    id,
    name: store.table(model)?.spec.description ?? model,
    model,
  });
  return id;
}

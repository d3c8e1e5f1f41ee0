/**
 * The control interface's operations on threads of the models loaded from dumps, as Odoo's mail
 * mixins do them: following (`message_subscribe`), unfollowing, posting a message
 * (`message_post`) and scheduling an activity (`activity_schedule`). Each is a create or an
 * unlink of a `mail.followers`, `mail.message` or `mail.activity` row pointing at the record
 * through `(model, res_id)`, in its own committed transaction (the control's create and unlink:
 * stamped with the transaction's start, behind the webhook when a rule fires on that model); the
 * record itself is not written, so its `write_date` stays.
 */
import { ACTIVITY_MODEL, FOLLOWERS_MODEL, MESSAGE_MODEL, threadRows } from './real/mail-threads.js';
import { irModel } from './real/mail-data.js';
import { UID } from './sandbox-auth.js';
import type { SandboxStore } from './sandbox-store.js';

export interface SandboxMessage {
  /** HTML, stored as given. */
  body: string;
  /** Default `comment`. */
  messageType?: string;
  /** The author (`res.partner`); default the API user's partner when users link one. */
  authorId?: number;
  subject?: string;
}

export interface SandboxActivity {
  summary: string;
  /** `YYYY-MM-DD`. */
  dateDeadline: string;
  /** Default the API user. */
  userId?: number;
  note?: string;
}

export interface SandboxMailControl {
  /**
   * `partnerId` follows the record (`message_subscribe`): a `mail.followers` row; nothing when it
   * already follows. Returns the follower's id.
   */
  follow(model: string, id: number, partnerId: number): number;
  /** `partnerId` stops following the record: its `mail.followers` row is deleted. */
  unfollow(model: string, id: number, partnerId: number): void;
  /** A message posted on the record (`message_post`), dated now. Returns the message's id. */
  postMessage(model: string, id: number, message: SandboxMessage): number;
  /** An activity on the record (`activity_schedule`). Returns the activity's id. */
  scheduleActivity(model: string, id: number, activity: SandboxActivity): number;
}

/** The control's own create and unlink: each its own transaction, webhooks included. */
interface Mutations {
  create(model: string, vals: Record<string, unknown>): number;
  unlink(model: string, ids: number | readonly number[]): void;
}

export function createMailControl(store: SandboxStore, mutations: Mutations): SandboxMailControl {
  /** The record, which must exist in a served model that has the mail model. */
  function requireThread(mailModel: string, model: string, id: number): void {
    if (store.table(mailModel) === undefined)
      throw new Error(`the sandbox serves no ${mailModel}: load a thread model from its dump`);
    if (store.table(model)?.rows.has(id) !== true)
      throw new Error(`the sandbox has no ${model} record ${id}`);
  }

  function userPartner(): number | false {
    const partner = store.table('res.users')?.rows.get(UID)?.partner_id;
    return typeof partner === 'number' ? partner : false;
  }

  return {
    follow(model, id, partnerId) {
      requireThread(FOLLOWERS_MODEL, model, id);
      const existing = threadRows(store, FOLLOWERS_MODEL, model, id).find(
        (follower) => follower.partner_id === partnerId,
      );
      if (existing !== undefined) return existing.id;
      // A new follower gets the default subtype, as `message_subscribe` gives it.
      const subtypes = store.table('mail.message.subtype');
      const discussions = subtypes?.ids.find(
        (subtype) => subtypes.rows.get(subtype)?.name === 'Discussions',
      );
      return mutations.create(FOLLOWERS_MODEL, {
        res_model: model,
        res_id: id,
        partner_id: partnerId,
        subtype_ids: discussions === undefined ? [] : [discussions],
      });
    },
    unfollow(model, id, partnerId) {
      requireThread(FOLLOWERS_MODEL, model, id);
      const followers = threadRows(store, FOLLOWERS_MODEL, model, id)
        .filter((follower) => follower.partner_id === partnerId)
        .map((follower) => follower.id);
      if (followers.length > 0) mutations.unlink(FOLLOWERS_MODEL, followers);
    },
    postMessage(model, id, message) {
      requireThread(MESSAGE_MODEL, model, id);
      return mutations.create(MESSAGE_MODEL, {
        model,
        res_id: id,
        body: message.body,
        message_type: message.messageType ?? 'comment',
        author_id: message.authorId ?? userPartner(),
        subject: message.subject ?? false,
        record_name: store.displayName(model, id),
      });
    },
    scheduleActivity(model, id, activity) {
      requireThread(ACTIVITY_MODEL, model, id);
      return mutations.create(ACTIVITY_MODEL, {
        res_model_id: irModel(store, model),
        res_id: id,
        res_name: store.displayName(model, id),
        summary: activity.summary,
        date_deadline: activity.dateDeadline,
        user_id: activity.userId ?? UID,
        note: activity.note ?? false,
      });
    },
  };
}

/**
 * The sandbox's emulation of an Odoo automation rule whose action is "Send Webhook Notification"
 * (docs/odoo.md, Webhooks): on create, write or deletion of a record of the rule's models (the BC
 * family by default, any model the sandbox serves), a JSON POST of `{_model, _id, _action, id,
 * <chosen fields>}` (sandbox-webhook-payload.ts) with a 1 s timeout, no retry and no signature —
 * sent as Odoo 17 and 18 send it, from inside the transaction, before its commit: the change is
 * applied only once the POST is answered (or timed out), so a receiver that reads at once sees
 * the old version.
 */
import { request } from 'undici';
import type { SandboxWebhookDelivery, SandboxWebhookEvent } from './sandbox-webhook-payload.js';

export type { SandboxWebhookEvent } from './sandbox-webhook-payload.js';

/** What an automation rule fires on: its trigger (Odoo's "On create and edit", "On deletion"). */
export type SandboxWebhookTrigger = 'create' | 'write' | 'unlink';

export interface SandboxWebhookRule {
  /** Where Odoo posts; the rule's "URL" field. */
  url: string;
  /** The models whose changes fire the rule (any the sandbox serves); default the BC family. */
  models?: readonly string[];
  /** The changes that fire it; default every kind. */
  on?: readonly SandboxWebhookTrigger[];
  /**
   * The rule's "Fields" (read inside the transaction with `load=None`); default none. A model
   * without one of them leaves it out.
   */
  fields?: readonly string[];
  /** True drops the event (Odoo sends nothing again for a webhook that failed). */
  drop?: (event: SandboxWebhookEvent) => boolean;
  /** Awaited after the POST, before the commit: a test holds the transaction open here. */
  beforeCommit?: () => Promise<void>;
}

/** Odoo's own timeout on the webhook request. */
const WEBHOOK_TIMEOUT_MS = 1_000;
const DEFAULT_MODELS = ['dimagaz.bc', 'dimagaz.bc.line'];

/** One post of a change: the rule that fires, and what it sends. */
export interface SandboxWebhookPost {
  readonly rule: SandboxWebhookRule;
  readonly delivery: SandboxWebhookDelivery;
}

export interface SandboxWebhooks {
  /** The automation rules that post: several (a rule per trigger, as Odoo has), or none. */
  configure(rules: readonly SandboxWebhookRule[]): void;
  /** The rules a change of `model` of this kind fires. */
  firing(model: string, trigger: SandboxWebhookTrigger): readonly SandboxWebhookRule[];
  /**
   * Posts the events, each to its rule's URL, then runs `commit`: the transaction's changes
   * become visible only after the webhooks left, as in Odoo. Returns at once; `settled()` waits
   * for every such commit.
   */
  sendThenCommit(posts: readonly SandboxWebhookPost[], commit: () => void): void;
  settled(): Promise<void>;
  /** Events posted so far (dropped ones excluded). */
  readonly sent: number;
}

export function createSandboxWebhooks(): SandboxWebhooks {
  let rules: readonly SandboxWebhookRule[] = [];
  let sent = 0;
  const pending = new Set<Promise<void>>();
  // Transactions on the same rows commit one after the other (row locks): so do these.
  let last: Promise<void> = Promise.resolve();

  async function post(target: SandboxWebhookRule, delivery: SandboxWebhookDelivery): Promise<void> {
    if (target.drop?.(delivery.event)) return;
    sent += 1;
    const body = delivery.body;
    try {
      const response = await request(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      await response.body.dump();
    } catch {
      // Odoo logs the failure and goes on: the change commits, the event is lost.
    }
  }

  return {
    configure(next) {
      rules = next;
    },
    firing(model, trigger) {
      return rules.filter(
        (rule) =>
          (rule.models ?? DEFAULT_MODELS).includes(model) &&
          (rule.on === undefined || rule.on.includes(trigger)),
      );
    },
    sendThenCommit(posts, commit) {
      if (posts.length === 0) {
        commit();
        return;
      }
      const previous = last;
      const done: Promise<void> = (async () => {
        await previous;
        for (const { rule, delivery } of posts) await post(rule, delivery);
        for (const rule of new Set(posts.map((one) => one.rule))) await rule.beforeCommit?.();
        commit();
      })().finally(() => pending.delete(done));
      last = done;
      pending.add(done);
    },
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    get sent() {
      return sent;
    },
  };
}

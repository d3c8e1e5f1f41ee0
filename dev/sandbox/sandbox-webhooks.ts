/**
 * The sandbox's emulation of an Odoo automation rule whose action is "Send Webhook Notification"
 * (docs/odoo.md, Webhooks): on create, write or deletion of a record of the rule's models (the BC
 * family by default, any model the sandbox serves), a JSON POST of `{_model, _id, _action, id,
 * <chosen fields>}` (sandbox-webhook-payload.ts) with a 1 s timeout, no retry and no signature —
 * sent as Odoo 17 and 18 send it, from inside the transaction, before its commit: the change is
 * applied only once the POST is answered (or timed out), so a receiver that reads at once sees
 * the old version.
 *
 * What the network between Odoo and its receiver does to those posts can be played too
 * (`setChaos`, for the chaos run: docs/chaos.md): a post lost, sent twice, or held back and
 * delivered after later ones, each drawn from a seeded generator so that a run replays.
 */
import { setTimeout as sleep } from 'node:timers/promises';
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

/**
 * What goes wrong on the way from Odoo to the receiver, each a share of the posts (0 to 1), drawn
 * post by post: Odoo never knows, and commits the change as after any post.
 */
export interface SandboxWebhookChaos {
  /** Posts lost on the way (a proxy that answered for the receiver, a dropped connection). */
  readonly drop?: number;
  /** Posts delivered twice (a proxy's retry). */
  readonly duplicate?: number;
  /** Posts held back `delayMs` and delivered after later ones: events out of order. */
  readonly delay?: number;
  /** How long a post held back waits (default 2 s). */
  readonly delayMs?: number;
}

/** How many posts the chaos touched so far. */
export interface SandboxWebhookChaosCounts {
  dropped: number;
  duplicated: number;
  delayed: number;
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
   * for every such commit. With `commitAfter`, the transaction commits once its posts left and
   * that promise resolved, and later transactions do not wait for it (they touch other rows).
   */
  sendThenCommit(
    posts: readonly SandboxWebhookPost[],
    commit: () => void,
    options?: { commitAfter?: Promise<void> },
  ): void;
  settled(): Promise<void>;
  /**
   * Resolves once every transaction sent so far committed, but those committing late: what a
   * client's call waits for in Odoo, whose automation posts inside the transaction.
   */
  committed(): Promise<void>;
  /** Events posted so far (dropped ones excluded). */
  readonly sent: number;
  /** What the network does to the posts from now on; undefined: nothing. */
  setChaos(chaos: SandboxWebhookChaos | undefined): void;
  chaosCounts(): SandboxWebhookChaosCounts;
}

/** `random` draws the chaos's fate of each post (seeded: a run replays). */
export function createSandboxWebhooks(random: () => number = Math.random): SandboxWebhooks {
  let rules: readonly SandboxWebhookRule[] = [];
  let sent = 0;
  let chaos: SandboxWebhookChaos | undefined;
  const counts: SandboxWebhookChaosCounts = { dropped: 0, duplicated: 0, delayed: 0 };
  const pending = new Set<Promise<void>>();
  // Transactions on the same rows commit one after the other (row locks): so do these.
  let last: Promise<void> = Promise.resolve();

  const track = (work: Promise<void>): void => {
    const tracked: Promise<void> = work.finally(() => pending.delete(tracked));
    pending.add(tracked);
  };

  /** The chaos's fate of one post. */
  function fate(): 'sent' | 'dropped' | 'duplicated' | 'delayed' {
    if (chaos === undefined) return 'sent';
    const draw = random();
    const drop = chaos.drop ?? 0;
    const duplicate = drop + (chaos.duplicate ?? 0);
    const delay = duplicate + (chaos.delay ?? 0);
    if (draw < drop) return 'dropped';
    if (draw < duplicate) return 'duplicated';
    if (draw < delay) return 'delayed';
    return 'sent';
  }

  async function post(target: SandboxWebhookRule, delivery: SandboxWebhookDelivery): Promise<void> {
    if (target.drop?.(delivery.event)) return;
    switch (fate()) {
      case 'dropped':
        counts.dropped += 1;
        return;
      case 'delayed': {
        counts.delayed += 1;
        const delayMs = chaos?.delayMs ?? 2_000;
        track(sleep(delayMs).then(() => send(target, delivery)));
        return;
      }
      case 'duplicated':
        counts.duplicated += 1;
        await send(target, delivery);
        await send(target, delivery);
        return;
      case 'sent':
        await send(target, delivery);
    }
  }

  async function send(target: SandboxWebhookRule, delivery: SandboxWebhookDelivery): Promise<void> {
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
    sendThenCommit(posts, commit, options = {}) {
      const late = options.commitAfter;
      if (posts.length === 0 && late === undefined) {
        commit();
        return;
      }
      const previous = last;
      const posted = (async () => {
        await previous;
        for (const { rule, delivery } of posts) await post(rule, delivery);
        for (const rule of new Set(posts.map((one) => one.rule))) await rule.beforeCommit?.();
      })();
      const done = (async () => {
        await posted;
        await late;
        commit();
      })();
      // A late commit holds its own rows only: the next transactions go once its posts left.
      last = late === undefined ? done : posted;
      track(done);
    },
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    async committed() {
      // A commit that threw is the caller's to see in the copy, not here.
      await last.catch(() => undefined);
    },
    get sent() {
      return sent;
    },
    setChaos(next) {
      chaos = next;
    },
    chaosCounts: () => ({ ...counts }),
  };
}

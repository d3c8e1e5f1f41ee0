/**
 * How the API checks a source's Odoo without its credentials (docs/sources.md, "Checking a
 * deployment"): it queues a `check-odoo` job on the source's `sync` queue, which a worker copying
 * the source runs (src/check, with the workers' credentials), and reads the job's state until it
 * answers or a bounded time is up. No worker, no answer: the section says so in a FAIL line, as it
 * says anything the check finds.
 *
 * A check costs the source's Odoo a login and a few reads, and a worker's time: no caller may
 * multiply it. So one check per source runs at a time in the whole fleet (the job's deduplication
 * id: an API replica asking while another's check runs waits for that one), callers of one API
 * process share its answer a while after it came (src/check/share-checks.ts), and the wait
 * holds no connection of the queues' store (it polls, where BullMQ's events would hold one each,
 * a pool's worth for a few operators at once).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { checkSectionSchema, fail, type CheckSection } from '../check/check-report.js';
import { describeError } from '../lib/errors.js';
import { redactUrl } from '../lib/redact-url.js';
import { readJobOutcome } from '../queues/queue-events.js';
import type { Queues } from '../queues/queues.js';

/** How long a request waits for a worker's check: a real Odoo answers it within seconds. */
export const CHECK_WAIT_MS = 60_000;
const POLL_MS = 500;

export interface WorkerCheckInput {
  readonly queues: Queues;
  readonly source: string;
  /** The section's heading when no worker answers: the source's Odoo, database and user. */
  readonly target: string;
  readonly waitMs?: number;
  readonly pollMs?: number;
}

/** The fleet's one check of `source` at a time: its deduplication id. */
const checkId = (source: string) => `check-odoo-${source}`;

export async function checkThroughWorker(input: WorkerCheckInput): Promise<CheckSection> {
  const { source } = input;
  const waitMs = input.waitMs ?? CHECK_WAIT_MS;
  const pollMs = input.pollMs ?? POLL_MS;
  const unanswered = (text: string, action: string): CheckSection => ({
    kind: 'odoo',
    source,
    target: input.target,
    lines: [fail('worker', text, action)],
    calls: 0,
  });
  const queue = input.queues.of(source).sync;
  // A check already queued or running (another replica's) is this one: its job's id comes back.
  const job = await input.queues.add(
    'check-odoo',
    { source },
    { deduplication: { id: checkId(source) } },
  );
  const deadlineMs = Date.now() + waitMs;
  for (;;) {
    const outcome = await readJobOutcome(queue, job.id!);
    if (outcome?.failed)
      return unanswered(
        // A failure's text may quote a URL with its credentials, as any error's.
        `the worker's check failed: ${redactUrl(outcome.reason)}`,
        "read the worker's log, then run check again",
      );
    if (outcome) {
      const parsed = checkSectionSchema.safeParse(outcome.value);
      return parsed.success
        ? parsed.data
        : unanswered(
            `the worker's answer is not a check section: ${describeError(parsed.error)}`,
            'run the same version of erp-bridge on the API and the workers',
          );
    }
    if (Date.now() >= deadlineMs) break;
    await delay(Math.min(pollMs, Math.max(deadlineMs - Date.now(), 0)));
  }
  // Left queued, a late worker would check for no one (a running one finishes, read by no one).
  await job.remove().catch(() => false);
  return unanswered(
    `no worker of source ${source} ran the check within ${waitMs / 1_000} s`,
    `start a worker that copies ${source} (SYNC_SOURCES), or run npm run sync -- check where its credentials are`,
  );
}

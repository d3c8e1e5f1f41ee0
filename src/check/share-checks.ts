/**
 * A check shared by its callers (docs/sources.md, "Checking a deployment"): a check costs the
 * server it checks a login and a few reads, so a caller asking while one runs gets its answer, and
 * so does one asking within a short cooldown of its end. The API's checks go through it.
 */
import type { CheckSection } from './check-report.js';

/** How long a check's answer is served to later callers: one check per source in that time. */
export const CHECK_COOLDOWN_MS = 15_000;

/**
 * `check` shared by its callers: a call while one for the same key runs gets that one's answer,
 * and so does a call within `cooldownMs` of its end. An answer that failed is not kept.
 */
export function shareChecks<K>(
  check: (key: K) => Promise<CheckSection>,
  cooldownMs = CHECK_COOLDOWN_MS,
  nowMs: () => number = Date.now,
): (key: K) => Promise<CheckSection> {
  const answers = new Map<K, { readonly answer: Promise<CheckSection>; endedMs?: number }>();
  return (key) => {
    const kept = answers.get(key);
    if (kept && (kept.endedMs === undefined || nowMs() - kept.endedMs < cooldownMs))
      return kept.answer;
    const entry: { answer: Promise<CheckSection>; endedMs?: number } = { answer: check(key) };
    answers.set(key, entry);
    entry.answer.then(
      () => (entry.endedMs = nowMs()),
      () => answers.get(key) === entry && answers.delete(key),
    );
    return entry.answer;
  };
}

/** One check shared by its callers, as {@link shareChecks} shares a check per key. */
export function shareCheck(
  check: () => Promise<CheckSection>,
  cooldownMs = CHECK_COOLDOWN_MS,
): () => Promise<CheckSection> {
  const shared = shareChecks(check, cooldownMs);
  return () => shared(undefined);
}

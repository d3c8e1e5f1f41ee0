import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../test/helpers/test-app.js';
import { DatabaseUnreachableError, waitForDatabase } from './wait-for-database.js';

/** An error as Node's socket or postgres.js gives it. */
function failure(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** A clock that moves only when the wait pauses, and the pauses it was asked for. */
function fakeTime() {
  let nowMs = 0;
  const pauses: number[] = [];
  return {
    pauses,
    now: () => nowMs,
    pause: (ms: number) => {
      pauses.push(ms);
      nowMs += ms;
      return Promise.resolve();
    },
  };
}

describe('waitForDatabase', () => {
  it('tries again while PostgreSQL refuses, with pauses that double, and says each failure', async () => {
    const time = fakeTime();
    const { lines, logger } = memoryLogger();
    const answers = [
      failure('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      failure('the database system is starting up', '57P03'),
      failure('getaddrinfo EAI_AGAIN postgres', 'EAI_AGAIN'),
    ];
    let pings = 0;
    await waitForDatabase(
      () => {
        pings += 1;
        const answer = answers.shift();
        return answer ? Promise.reject(answer) : Promise.resolve();
      },
      { waitMs: 60_000, logger, ...time },
    );
    expect(pings).toBe(4);
    expect(time.pauses).toEqual([500, 1_000, 2_000]);
    const said = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(said.filter((line) => line.level === 40).map((line) => line.msg)).toEqual([
      'PostgreSQL does not answer (connect ECONNREFUSED 127.0.0.1:5432): trying again in 0.5 s, for up to 1 min 0 s more (DATABASE_BOOT_WAIT_MS)',
      'PostgreSQL does not answer (the database system is starting up): trying again in 1.0 s, for up to 1 min 0 s more (DATABASE_BOOT_WAIT_MS)',
      'PostgreSQL does not answer (getaddrinfo EAI_AGAIN postgres): trying again in 2.0 s, for up to 59 s more (DATABASE_BOOT_WAIT_MS)',
    ]);
    expect(said.at(-1)?.msg).toBe('PostgreSQL answers, after 4 s');
  });

  it('gives up once the bound is spent, naming the bound and the last failure', async () => {
    const time = fakeTime();
    const { logger } = memoryLogger();
    const refused = failure('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED');
    const waiting = waitForDatabase(() => Promise.reject(refused), {
      waitMs: 10_000,
      logger,
      ...time,
    });
    await expect(waiting).rejects.toThrow(DatabaseUnreachableError);
    await expect(waiting).rejects.toMatchObject({
      code: 'DATABASE_UNREACHABLE',
      retryable: true,
      cause: refused,
      message:
        'PostgreSQL did not answer within 10 s (DATABASE_BOOT_WAIT_MS): connect ECONNREFUSED 127.0.0.1:5432',
    });
    // 0.5 + 1 + 2 + 4, then what is left of the 10 s: never past the bound, never above 5 s.
    expect(time.pauses).toEqual([500, 1_000, 2_000, 4_000, 2_500]);
  });

  /** A wait of `waitMs` on a PostgreSQL that always fails with `error`: how many pings it made. */
  async function waitOnFailing(error: Error, waitMs: number) {
    const time = fakeTime();
    let pings = 0;
    const outcome = await waitForDatabase(
      () => {
        pings += 1;
        return Promise.reject(error);
      },
      { waitMs, logger: memoryLogger().logger, ...time },
    ).catch((thrown: unknown) => thrown);
    return { outcome, pings, pauses: time.pauses };
  }

  it('tries once with a bound of 0', async () => {
    const timeout = failure('write CONNECT_TIMEOUT 127.0.0.1:5432', 'CONNECT_TIMEOUT');
    const { outcome, pings, pauses } = await waitOnFailing(timeout, 0);
    expect(outcome).toBeInstanceOf(DatabaseUnreachableError);
    expect(pings).toBe(1);
    expect(pauses).toEqual([]);
  });

  it('ends at once on what waiting cannot mend: a password refused, a database missing', async () => {
    for (const refusal of [
      failure('password authentication failed for user "erp"', '28P01'),
      failure('database "erp" does not exist', '3D000'),
    ]) {
      const { outcome, pings, pauses } = await waitOnFailing(refusal, 60_000);
      expect(outcome).toBe(refusal);
      expect(pings).toBe(1);
      expect(pauses).toEqual([]);
    }
  });
});

import { describe, expect, it } from 'vitest';
import type { ApiClient } from './chaos-api.js';
import { failedJobDifferences, type Difference } from './chaos-oracle.js';
import { BC, LINE } from './chaos-storm.js';

/** The API's answers the failures check reads, by route, with the paths it was asked. */
function fakeApi(input: {
  webhookJobs: Array<Record<string, unknown>>;
  failures?: Array<{ odooId: number }>;
  inbox?: Array<{ recordId: number; rootId: number | null }>;
}): ApiClient & { readonly asked: string[] } {
  const asked: string[] = [];
  const board = (jobs: unknown[]) => ({
    queues: [
      { name: 'sync-record', counts: { failed: 0 }, jobs: [] },
      { name: 'sync-webhook', counts: { failed: input.webhookJobs.length }, jobs },
    ],
  });
  const answers: Array<[RegExp, () => unknown]> = [
    [/^\/admin\/queues\/api\/queues$/, () => board([])],
    [/activeQueue=sync-webhook/, () => board(input.webhookJobs.map((data) => ({ data })))],
    [/^\/api\/sync\/failures/, () => ({ items: input.failures ?? [], nextAfter: null })],
    [/^\/api\/sync\/webhooks/, () => ({ items: input.inbox ?? [], nextAfter: null })],
  ];
  return {
    asked,
    get<T>(path: string): Promise<T> {
      asked.push(path);
      const answer = answers.find(([route]) => route.test(path));
      if (!answer) throw new Error(`no answer for ${path}`);
      return Promise.resolve(answer[1]() as T);
    },
    text: () => Promise.reject(new Error('not read')),
  } as unknown as ApiClient & { readonly asked: string[] };
}

const lineEvent = { family: 'bcs', model: LINE, recordId: 71, rootId: 7, receivedAtMs: 0 };

describe("the oracle's failed webhook jobs", () => {
  it('names a webhook job failed for good whose copy differs, with nothing left to try it again', async () => {
    const api = fakeApi({ webhookJobs: [lineEvent] });
    const differences: Difference[] = [];
    const failed = await failedJobDifferences(
      api,
      'k',
      new Set([`default ${LINE} 71`]),
      differences,
    );
    expect(failed).toEqual({ 'sync-webhook': 1 });
    expect(differences).toEqual([
      expect.objectContaining({
        check: 'failures',
        source: 'default',
        model: BC,
        odooId: 7,
        text: expect.stringContaining('its webhook job failed for good') as string,
      }),
    ]);
  });

  it('counts none while the inbox holds an event of its root, or the failures table its root', async () => {
    for (const kept of [{ inbox: [{ recordId: 72, rootId: 7 }] }, { failures: [{ odooId: 7 }] }]) {
      const differences: Difference[] = [];
      await failedJobDifferences(
        fakeApi({ webhookJobs: [lineEvent], ...kept }),
        'k',
        new Set([`default ${BC} 7`]),
        differences,
      );
      expect(differences).toEqual([]);
    }
  });

  it('reads nothing more of a job whose record the copy holds equal', async () => {
    const api = fakeApi({ webhookJobs: [{ ...lineEvent, family: 'b19.bcs' }] });
    const differences: Difference[] = [];
    await failedJobDifferences(api, 'k', new Set([`default ${BC} 7`]), differences);
    expect(differences).toEqual([]);
    expect(api.asked.filter((path) => path.startsWith('/api/'))).toEqual([]);
  });
});

/**
 * The admin's way out at 3 a.m.: a BC that failed for good is retried from bull-board in a real
 * browser — log in, open the failed job, press retry — and the BC arrives in the copy.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser } from 'playwright-core';
import type { App } from '../../src/http/app.js';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { launchBrowser } from '../helpers/browser.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';
import { createTestApp, KEYS } from '../helpers/test-app.js';

describe('bull-board in a browser', () => {
  let h: SyncHarness;
  let app: App;
  let browser: Browser;
  let base: string;
  beforeAll(async () => {
    h = await createSyncHarness({ sandbox: { orders: 20, linesPerOrder: 2 }, jobAttempts: 1 });
    app = await createTestApp(h.db, { queues: h.runtime.queues });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchBrowser();
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await h?.dispose();
  });

  it('an admin logs in, opens the failed BC job, presses retry, and the BC arrives', async () => {
    const c = h.sandbox.control;
    const target = c.ids(BC_MODEL)[4]!;
    c.write(BC_MODEL, target, { origin: 'arrives after a retry' });
    const fault = c.injectFault({
      kind: 'fault',
      faultCode: 2,
      message: 'Broken computed field',
      method: 'read',
      recordId: target,
      times: Infinity,
    });
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'partial',
    });
    fault.remove();

    const context = await browser.newContext({
      httpCredentials: { username: 'admin', password: KEYS.admin.key },
    });
    const page = await context.newPage();
    await page.goto(`${base}/admin/queues/queue/sync-record?status=failed`);
    const job = page.getByText(`rec-bcs-${target}-r`, { exact: false }).first();
    await job.waitFor({ state: 'visible', timeout: 10_000 });
    await job.click();
    await page.waitForLoadState('networkidle');
    // The job's own retry button (an icon; "Retry all" is the queue's).
    await page
      .locator('button:has(svg.lucide-refresh-cw)')
      .filter({ hasNotText: 'Retry all' })
      .first()
      .click();
    await page.getByText('Are you sure that you want to retry this job?').waitFor();
    await page.getByRole('button', { name: 'Confirm' }).click();

    await vi.waitFor(
      async () => expect((await h.copyOf(target)).bc!.origin).toBe('arrives after a retry'),
      { timeout: 15_000, interval: 100 },
    );
    expect(await h.failures()).toEqual([]);
    await context.close();
  });
});

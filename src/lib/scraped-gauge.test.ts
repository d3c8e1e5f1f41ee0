import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { scrapedGauge, type GaugeSeries } from './scraped-gauge.js';

describe('scrapedGauge', () => {
  it('holds what each scrape reads: a series gone from the reading is gone from the gauge', async () => {
    const registry = new Registry();
    let reading: GaugeSeries<'subscription' | 'status'>[] = [
      [{ subscription: 'portal', status: 'active' }, 1],
      [{ subscription: 'archive', status: 'failing' }, 0],
    ];
    scrapedGauge(
      registry,
      { name: 'test_status', help: 'A status', labelNames: ['subscription', 'status'] },
      () => Promise.resolve(reading),
    );
    expect(await registry.getSingleMetricAsString('test_status')).toContain(
      'test_status{subscription="portal",status="active"} 1\ntest_status{subscription="archive",status="failing"} 0',
    );
    reading = [[{ subscription: 'archive', status: 'failing' }, 1]];
    const text = await registry.getSingleMetricAsString('test_status');
    expect(text).toContain('test_status{subscription="archive",status="failing"} 1');
    expect(text).not.toContain('portal');
  });
});

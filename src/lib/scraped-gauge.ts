/**
 * A Prometheus gauge whose series are read afresh at each scrape: `series` gives every series'
 * labels and value, and the gauge holds those only (a series that is gone is dropped).
 */
import { Gauge, type Registry } from 'prom-client';

export type GaugeSeries<L extends string> = readonly [Partial<Record<L, string>>, number];

export function scrapedGauge<L extends string>(
  registry: Registry,
  metric: { readonly name: string; readonly help: string; readonly labelNames: readonly L[] },
  series: () => Iterable<GaugeSeries<L>> | Promise<Iterable<GaugeSeries<L>>>,
): void {
  new Gauge({
    ...metric,
    registers: [registry],
    async collect() {
      const read = await series();
      this.reset();
      for (const [labels, value] of read) this.set(labels, value);
    },
  });
}

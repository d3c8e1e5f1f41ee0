/**
 * The record family of the job a piece of work runs for, for the metrics of what it costs Odoo:
 * every Odoo call made while a job runs (from its processor down to the client, through every
 * await) is counted under its job's family, without any call site passing it. Work shared by
 * jobs of several families (one login, one schema read awaited by all) counts under the family
 * of the job that started it; work outside jobs (the API key's checks) under none.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const jobFamily = new AsyncLocalStorage<string>();

/** Runs `work` as work of `family`'s job. */
export function runForFamily<T>(family: string, work: () => T): T {
  return jobFamily.run(family, work);
}

/** The family of the job this runs for, or `none` outside a job. */
export function currentFamily(): string {
  return jobFamily.getStore() ?? 'none';
}

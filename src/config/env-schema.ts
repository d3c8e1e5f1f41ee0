/**
 * The environment contract: every key erp-bridge reads, each written once in `settings/` with
 * its parser, default, description and whether it is a secret (env-setting.ts). The schema the
 * processes parse at boot and the operators' documentation (`.env.example`, the README's table,
 * checked against it by a test) are both derived here.
 */
import { z } from 'zod';
import type { Setting } from './env-setting.js';
import { FEED_SETTINGS, ODOO_SETTINGS, SYNC_SETTINGS } from './settings/copy-settings.js';
import { HTTP_SETTINGS, STORAGE_SETTINGS, TRYTON_SETTINGS } from './settings/service-settings.js';

export { DEFAULT_TRYTON_ALLOWED_METHODS } from './settings/service-settings.js';

/** Every key, in the order of `.env.example` and the README's table. */
const SETTINGS = {
  ...STORAGE_SETTINGS,
  ...ODOO_SETTINGS,
  ...SYNC_SETTINGS,
  ...FEED_SETTINGS,
  ...TRYTON_SETTINGS,
  ...HTTP_SETTINGS,
} satisfies Record<string, Setting>;

type Shape = { [K in keyof typeof SETTINGS]: (typeof SETTINGS)[K]['schema'] };

export const envSchema = z.object(
  Object.fromEntries(Object.entries(SETTINGS).map(([key, entry]) => [key, entry.schema])) as Shape,
);

export type Env = z.output<typeof envSchema>;

export interface EnvKeyDoc {
  readonly key: string;
  readonly description: string;
  /** The default as an operator would write it; undefined when there is none. */
  readonly default?: string;
  /** Values that must never be printed (URLs may hold passwords). */
  readonly secret?: boolean;
}

/** Operator-facing documentation of every key, in the order of `.env.example`. */
export const ENV_KEYS: readonly EnvKeyDoc[] = Object.entries(SETTINGS).map(([key, entry]) => ({
  key,
  ...entry.doc,
}));

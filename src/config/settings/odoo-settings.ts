/** The Odoo the copy reads: where, as whom, over which transport, how fast (docs/odoo.md). Each key once: its parser, its default and its documentation (env-setting.ts). */
import { z } from 'zod';
import { defaulted, setting } from '../env-setting.js';
import {
  blankToUndefined,
  booleanText,
  instant,
  list,
  odooContext,
  oneOf,
  optionalText,
  optionalUrl,
  wholeNumber,
} from '../env-values.js';

/** Odoo's transports; `auto` chooses by the server's version (see the Odoo client). */
export const ODOO_PROTOCOLS = ['auto', 'xmlrpc', 'jsonrpc', 'json2'] as const;

export const ODOO_SETTINGS = {
  ODOO_URL: setting(optionalUrl(['http:', 'https:']), {
    description:
      'Odoo base URL, e.g. http://odoo:8069. Required, except for the demo (bundled sandbox).',
  }),
  ODOO_DATABASE: setting(optionalText(), { description: 'Odoo database name.' }),
  ODOO_USERNAME: setting(optionalText(), { description: 'Odoo login of the sync user.' }),
  ODOO_PASSWORD: setting(optionalText(), {
    description:
      'Odoo password of the sync user (or an API key). Not needed with ODOO_API_KEY, which is used in its place.',
    secret: true,
  }),
  ODOO_PROTOCOL: defaulted(oneOf(ODOO_PROTOCOLS), 'auto', {
    description:
      "Odoo transport: auto (read the server's version once per process: json2 on Odoo 19+ with ODOO_API_KEY, jsonrpc otherwise), xmlrpc, jsonrpc or json2 (Odoo 19+).",
  }),
  ODOO_READ_REPLICA: defaulted(booleanText(), 'true', {
    description:
      "Whether Odoo may serve JSON-2's reads from a read replica that lags (db_replica_host, Odoo 18+; a client cannot tell). True: the sync proves a record current, and lets a verify or a reconcile overwrite a newer stamp, only within what its reads have shown (docs/odoo.md); a quiet Odoo's latest changes are then read again by each run. False only when you know Odoo has no replica: a lag longer than a minute could then lose a change. No effect on XML-RPC and JSON-RPC, which Odoo serves from its primary.",
  }),
  ODOO_API_KEY: setting(optionalText(), {
    description:
      "API key of the sync user (Odoo: Preferences → Account Security → New API Key). JSON-2's bearer on Odoo 19+, and the password of XML-RPC and JSON-RPC calls (Odoo takes a key wherever it takes the password).",
    secret: true,
  }),
  ODOO_API_KEY_EXPIRES_AT: setting(z.preprocess(blankToUndefined, instant().optional()), {
    description:
      "When ODOO_API_KEY lapses (ISO date or date-time, UTC), as Odoo showed it at creation. Unset: erp-bridge reads it from Odoo (the user's keys), or knows it from its own renewal.",
  }),
  ODOO_API_KEY_WARN_DAYS: defaulted(wholeNumber('a whole number of days', 0, 365), '14', {
    description:
      'Days before the API key lapses from which the worker logs a warning, status and GET /api/sync/state say so, and erp_bridge_odoo_api_key_expiring is 1.',
  }),
  ODOO_API_KEY_ROTATE: defaulted(booleanText(), 'false', {
    description:
      "Whether a worker renews the API key over Odoo's API (res.users.apikeys.generate: Odoo after 19.0.0, with programmatic keys enabled for the user; where Odoo refuses, it says why once a day) before it lapses, keeps the new one encrypted in PostgreSQL for every process, and revokes the old one once none uses it. Needs ODOO_API_KEY and ODOO_API_KEY_SECRET.",
  }),
  ODOO_API_KEY_RENEW_DAYS: defaulted(wholeNumber('a whole number of days', 1, 365), '30', {
    description: 'With ODOO_API_KEY_ROTATE: renew the key when fewer days than this remain.',
  }),
  ODOO_API_KEY_LIFETIME_DAYS: defaulted(wholeNumber('a whole number of days', 2, 3_650), '89', {
    description:
      "With ODOO_API_KEY_ROTATE: the lifetime asked for a renewed key; at most what Odoo allows the user's groups (90 days for internal users: keep a day below, Odoo checks in its server's local time).",
  }),
  ODOO_API_KEY_SECRET: setting(
    z.preprocess(
      blankToUndefined,
      z
        .string()
        .trim()
        .min(32, { error: 'must be at least 32 characters (e.g. openssl rand -base64 32)' })
        .optional(),
    ),
    {
      description:
        'Secret (at least 32 characters) from which the key encrypting the renewed API key in PostgreSQL (AES-256-GCM) is derived; the same for every process. Required with ODOO_API_KEY_ROTATE.',
      secret: true,
    },
  ),
  ODOO_API_KEY_SECRET_PREVIOUS: setting(
    z.preprocess(
      blankToUndefined,
      z
        .string()
        .trim()
        .min(32, { error: 'must be at least 32 characters, as ODOO_API_KEY_SECRET was' })
        .optional(),
    ),
    {
      description:
        'While ODOO_API_KEY_SECRET changes: the secret it replaces. The stored key opens with either, and its next write (a renewal, a new ODOO_API_KEY adopted) seals it under ODOO_API_KEY_SECRET; unset it after that (docs/odoo.md, "Changing ODOO_API_KEY_SECRET").',
      secret: true,
    },
  ),
  ODOO_TIMEOUT_MS: defaulted(wholeNumber('a whole number of milliseconds', 100, 600_000), '30000', {
    description: 'Timeout of one Odoo call.',
  }),
  ODOO_RETRIES: defaulted(wholeNumber('a whole number of retries', 0, 10), '3', {
    description: 'Retries of a failed Odoo call when the failure is transient.',
  }),
  ODOO_MAX_CONCURRENT_CALLS: defaulted(wholeNumber('a whole number of calls', 0, 1_000), '4', {
    description:
      'Odoo calls in flight at once across every process that shares REDIS_URL (workers, the sync CLI, the demo, migrate); 0: no bound. Each call holds one of Odoo\'s HTTP workers: 4 leaves one to the users of the smallest Odoo deployed as Odoo advises (2 CPUs, 5 workers), and lets one worker\'s SYNC_CONCURRENCY pages run. A slot of a process that died is free after ODOO_TIMEOUT_MS plus 5 s (docs/odoo.md, "Call budget").',
  }),
  ODOO_MAX_CALLS_PER_SECOND: defaulted(wholeNumber('a whole number of calls', 0, 10_000), '0', {
    description:
      'Odoo calls within any one second across every process that shares REDIS_URL; 0: no bound. A call counts from when it is sent until a second after its answer, so the bound holds as Odoo sees the calls arrive; it costs a full copy time (docs/odoo.md, "Call budget").',
  }),
  ODOO_BUDGET_MAX_WAIT_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 1_000, 3_600_000),
    '600000',
    {
      description:
        'The longest an Odoo call waits for its turn in the call budget (ODOO_MAX_* keys, a pause Odoo asked for); past it the call fails with ODOO_BUDGET_TIMEOUT and its job is retried. Above the longest pause (5 minutes).',
    },
  ),
  ODOO_PAGE_SIZE: defaulted(wholeNumber('a whole number of records', 1, 10_000), '1000', {
    description:
      'Root records a page reads at most (a page job reads them with their children and writes them); pages are sized by ODOO_PAGE_MAX_BYTES below this.',
  }),
  ODOO_PAGE_MAX_BYTES: defaulted(
    wholeNumber('a whole number of bytes', 16_384, 268_435_456),
    '2097152',
    {
      description:
        "A page's records as JSON, children included, at most: pages hold as many roots as fit, from the size of the records the copy holds (or of a few read first, in a first copy). Each Odoo call costs Odoo tens of milliseconds whatever its size, so narrow records are read by the thousand; a worker holds SYNC_CONCURRENCY pages at once, and their records are most of its memory (docs/performance.md).",
    },
  ),
  ODOO_CONTEXT: setting(z.preprocess(blankToUndefined, odooContext().optional()), {
    description:
      'Extra Odoo context for every read, as JSON (e.g. {"lang":"fr_FR","tz":"Africa/Casablanca"}). Default: the sync user\'s own lang and tz; active_test is always false.',
  }),
  ODOO_WEBHOOK_TOKENS: defaulted(list(), '', {
    description:
      "SHA-256 (hex) of the tokens Odoo's webhook URLs carry (POST /hooks/odoo/<token>), comma-separated: several during a rotation. Empty: the webhook route answers 404. `npm run apikey -- --webhook` makes one.",
    secret: true,
  }),
  ODOO_WEBHOOK_DEBOUNCE_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 0, 60_000),
    '500',
    { description: 'Webhook events for one BC within this window collapse into one read of Odoo.' },
  ),
  ODOO_WEBHOOK_RATE_LIMIT_PER_MINUTE: defaulted(
    wholeNumber('a whole number of requests', 1, 1_000_000),
    '6000',
    { description: 'Webhook requests per minute accepted with a valid token.' },
  ),
};

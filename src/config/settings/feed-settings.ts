/** The change feed: retention, subscriptions, deliveries (docs/feed.md). Each key once: its parser, its default and its documentation (env-setting.ts). */
import { z } from 'zod';
import { defaulted, setting } from '../env-setting.js';
import { blankToUndefined, list, optionalText, wholeNumber } from '../env-values.js';

export const FEED_SETTINGS = {
  // The change feed (docs/feed.md).
  FEED_RETENTION_DAYS: defaulted(wholeNumber('a whole number of days', 1, 3_650), '7', {
    description:
      "How long the change feed keeps a change at least (GET /api/changes, the stream, the subscriptions): it is dropped with its UTC day's partition once that day ended this many days ago, so up to a day longer. A consumer or subscription further behind is told to resync (410, status expired): keep it longer than the longest outage a receiver should survive. The records' history is kept whatever this says.",
  }),
  FEED_SUBSCRIPTIONS_FILE: setting(optionalText(), {
    description:
      'A YAML or JSON file of change feed subscriptions (docs/feed.md): each a name, a URL, a Standard Webhooks secret (whsec_…), the families and models it takes and where it starts (now, oldest or a position). Workers with the file create and update its subscriptions at start; one it no longer names is deleted when a file lists it under removed, or a day after no process declared it. Holds secrets: mount it as one.',
  }),
  FEED_DELIVERY_TIMEOUT_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 100, 120_000),
    '10000',
    {
      description:
        'How long one delivery to a subscriber may take, connection to answer, before it is retried.',
    },
  ),
  FEED_DELIVERY_BATCH_MAX: defaulted(wholeNumber('a whole number of changes', 1, 1_000), '100', {
    description:
      'Most changes one delivery carries when the subscriber is behind (one message, in order); caught up, a message carries one change.',
  }),
  FEED_DELIVERY_BACKOFF_MAX_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 1_000, 86_400_000),
    '300000',
    {
      description:
        'Longest wait between two attempts of a failed delivery (the first waits 1 s, each next one twice as long).',
    },
  ),
  FEED_DELIVERY_GIVE_UP_HOURS: defaulted(wholeNumber('a whole number of hours', 1, 2_160), '72', {
    description:
      'How long a failed delivery is retried before it is a dead letter: its subscription then stops there (status failing) until replayed, so nothing after it arrives out of order.',
  }),
  FEED_SECRET_KEY: setting(
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
        "Secret (at least 32 characters) from which the key sealing the subscriptions' signing secrets in PostgreSQL (AES-256-GCM) is derived; the same for the API and every worker. Required to create a subscription (the API's, or FEED_SUBSCRIPTIONS_FILE's); a worker seals the secrets stored in the clear by an earlier version at start.",
      secret: true,
    },
  ),
  FEED_SECRET_KEY_PREVIOUS: setting(
    z.preprocess(
      blankToUndefined,
      z
        .string()
        .trim()
        .min(32, { error: 'must be at least 32 characters, as FEED_SECRET_KEY was' })
        .optional(),
    ),
    {
      description:
        'While FEED_SECRET_KEY changes: the secret it replaces. A subscription\'s secret opens with either, and the workers seal every secret anew under FEED_SECRET_KEY at start; unset it after one worker started (docs/feed.md, "Secrets at rest").',
      secret: true,
    },
  ),
  FEED_ALLOWED_HOSTS: defaulted(list(), '', {
    description:
      'Comma-separated receivers deliveries may reach though their address is loopback, private, link-local, unique-local or another special range: host names (receiver.internal, *.corp.example) and addresses or CIDR ranges (10.20.0.0/16, fd00::/8). Every other receiver must resolve to a public address; the demo allows loopback.',
  }),
};

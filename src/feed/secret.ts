/**
 * A subscription's signing secret, as the Standard Webhooks specification has it: `whsec_` and a
 * key of 24 to 64 bytes in base64. The receiver keeps it to verify each delivery, erp-bridge to
 * sign them.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { AppError } from '../lib/errors.js';
import { createSealer, isSealed } from '../lib/sealed-secret.js';

const KEY_BYTES = { min: 24, max: 64 } as const;
const PREFIX = 'whsec_';

/** A new secret: 32 random bytes. */
export function generateSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

/** What is wrong with `secret`, if anything (never the secret itself). */
export function secretProblem(secret: string): string | undefined {
  if (!secret.startsWith(PREFIX)) return 'must be a Standard Webhooks secret: whsec_ and base64';
  const body = secret.slice(PREFIX.length);
  const key = Buffer.from(body, 'base64');
  if (
    !/^[A-Za-z0-9+/]+={0,2}$/.test(body) ||
    key.length < KEY_BYTES.min ||
    key.length > KEY_BYTES.max
  )
    return `must hold ${KEY_BYTES.min} to ${KEY_BYTES.max} bytes of key in base64 (\`npm run apikey -- --webhook-secret\` makes one)`;
  try {
    new Webhook(secret);
  } catch {
    return 'is not a key the Standard Webhooks library takes';
  }
  return undefined;
}

/** FEED_SECRET_KEY, and the one it replaces while it changes. */
export interface FeedSecretKey {
  readonly secret: string;
  readonly previous?: string;
}

/**
 * The subscriptions' signing secrets at rest (docs/feed.md, "Secrets at rest"): sealed under
 * FEED_SECRET_KEY (src/lib/sealed-secret.ts). A secret an earlier version stored in the clear
 * (`whsec_…`) still opens as it is; a worker seals those at start.
 */
export interface SubscriptionSecrets {
  /** Whether a key is configured: without one, no subscription can be made. */
  readonly canSeal: boolean;
  /** @throws AppError `FEED_SECRET_KEY_MISSING` without FEED_SECRET_KEY */
  seal(plain: string): string;
  /** @throws AppError `FEED_SECRET_UNREADABLE` when it does not open with the key(s) */
  open(stored: string): string;
}

export function createSubscriptionSecrets(key: FeedSecretKey | undefined): SubscriptionSecrets {
  const sealer =
    key &&
    createSealer({
      secret: key.secret,
      previousSecret: key.previous,
      purpose: 'erp-bridge feed subscription secret v1',
      unreadable: (cause) =>
        new AppError(
          'FEED_SECRET_UNREADABLE',
          "a subscription's secret does not open with FEED_SECRET_KEY (another key, or a changed value): set FEED_SECRET_KEY_PREVIOUS to the key it was sealed with, or replay the subscription with a new secret",
          { cause, retryable: false },
        ),
    });
  /** The sealer, or the refusal of a process without FEED_SECRET_KEY. */
  const keyed = (code: string, message: string) => {
    if (!sealer) throw new AppError(code, message, { retryable: false });
    return sealer;
  };
  return {
    canSeal: sealer !== undefined,
    seal: (plain) =>
      keyed(
        'FEED_SECRET_KEY_MISSING',
        "a subscription's signing secret is sealed at rest: set FEED_SECRET_KEY (the same for the API and the workers; e.g. openssl rand -base64 32)",
      ).seal(plain),
    open: (stored) =>
      isSealed(stored)
        ? keyed(
            'FEED_SECRET_UNREADABLE',
            "a subscription's secret is sealed and FEED_SECRET_KEY is not set here",
          ).open(stored)
        : stored,
  };
}

/** The change feed's settings (docs/feed.md), as the configuration holds them. */
import type { FeedSecretKey } from '../feed/secret.js';
import type { DeclaredSubscriptions } from '../feed/subscriptions.js';
import { PUBLIC_RECEIVERS_ONLY, type ReceiverAddressRules } from '../feed/receiver-address.js';
import { DEFAULT_SOURCE, unnamedSources } from '../sources/family-key.js';
import { envSchema, type Env } from './env-schema.js';

/** The feed's retention, the subscriptions of the file, and how changes are delivered. */
export interface FeedConfig {
  readonly retentionDays: number;
  /** What FEED_SUBSCRIPTIONS_FILE declares (the workers apply it at start). */
  readonly declared: DeclaredSubscriptions;
  /** Receivers reachable though special (FEED_ALLOWED_HOSTS; loopback in the demo). */
  readonly allowedHosts: ReceiverAddressRules;
  /** FEED_SECRET_KEY (and _PREVIOUS): what seals the subscriptions' secrets at rest. */
  readonly secretKey: FeedSecretKey | undefined;
  readonly delivery: {
    readonly timeoutMs: number;
    readonly batchMax: number;
    readonly backoffMaxMs: number;
    readonly giveUpHours: number;
  };
}

export function feedConfigFrom(
  env: Env,
  declared: DeclaredSubscriptions,
  allowedHosts: ReceiverAddressRules,
): FeedConfig {
  return {
    retentionDays: env.FEED_RETENTION_DAYS,
    declared,
    allowedHosts,
    secretKey: env.FEED_SECRET_KEY
      ? {
          secret: env.FEED_SECRET_KEY,
          ...(env.FEED_SECRET_KEY_PREVIOUS ? { previous: env.FEED_SECRET_KEY_PREVIOUS } : {}),
        }
      : undefined,
    delivery: {
      timeoutMs: env.FEED_DELIVERY_TIMEOUT_MS,
      batchMax: env.FEED_DELIVERY_BATCH_MAX,
      backoffMaxMs: env.FEED_DELIVERY_BACKOFF_MAX_MS,
      giveUpHours: env.FEED_DELIVERY_GIVE_UP_HOURS,
    },
  };
}

/** The feed's settings at their keys' defaults, for a runtime built without a configuration. */
export function defaultFeedConfig(): FeedConfig {
  return feedConfigFrom(
    envSchema.parse({}),
    { subscriptions: [], removed: [], unnamedSources: unnamedSources([DEFAULT_SOURCE]) },
    PUBLIC_RECEIVERS_ONLY,
  );
}

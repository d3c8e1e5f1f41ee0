/**
 * What the workers' start line, `npm run sync -- status`, `GET /api/sync/state` and the metrics
 * say of the Odoo link: the transport and why, and the API key — when it lapses, how many days
 * are left, whether that is within ODOO_API_KEY_WARN_DAYS, whether erp-bridge renews it and how
 * its last renewal went. Pure: built from the `odoo_link` row and the configuration.
 */
import type { OdooApiKeyConfig } from '../config/odoo-config.js';
import type { OdooLinkRow } from '../db/schema/index.js';

/** `ok`, `expiring` (within the warning days), `lapsed`, `never` (a persistent key), `unknown`. */
export type ApiKeyState = 'ok' | 'expiring' | 'lapsed' | 'never' | 'unknown';

export interface ApiKeyStatus {
  readonly state: ApiKeyState;
  readonly expiresAt: Date | null;
  /** `config`, `odoo` or `renewal`. */
  readonly expirySource: string | null;
  /** Seconds until it lapses (negative once lapsed); null when unknown or never. */
  readonly secondsLeft: number | null;
  readonly rotate: boolean;
  /** When a worker renews it (with rotation on). */
  readonly renewFrom: Date | null;
  readonly renewedAt: Date | null;
  readonly renewalError: string | null;
  /** After Odoo refused a renewal: when a worker asks again (none before). */
  readonly renewalRetryAfter: Date | null;
  /** One line for an operator. */
  readonly summary: string;
}

export interface TransportStatus {
  readonly protocol: string;
  readonly reason: string;
  readonly serverVersion: string | null;
  readonly chosenAt: Date;
}

/** How the workers read a model's schema, and why (docs/odoo.md, "Reading the schema"). */
export interface SchemaSourceStatus {
  readonly source: 'doc-bearer' | 'fields_get';
  readonly reason: string;
}

export interface LinkStatus {
  /** As the last worker to choose chose it; null before any did. */
  readonly transport: TransportStatus | null;
  /** Null before a worker chose its transport. */
  readonly schema: SchemaSourceStatus | null;
  /** Null when no API key is configured (a password only). */
  readonly apiKey: ApiKeyStatus | null;
}

const DAY_MS = 86_400_000;
/** Within this many days of its lapse, a key's warning is logged again, the last before it. */
export const URGENT_DAYS = 3;

/** The key's status from what is known of its expiry. */
export function describeApiKey(
  known: {
    expiresAt: Date | null | undefined;
    expirySource: string | null | undefined;
    renewedAt?: Date | null;
    renewalError?: string | null;
    renewalRetryAfter?: Date | null;
  },
  settings: OdooApiKeyConfig,
  nowMs: number,
): ApiKeyStatus {
  const { expiresAt, expirySource } = known;
  const base = {
    expiresAt: expiresAt ?? null,
    expirySource: expirySource ?? null,
    rotate: settings.rotate,
    renewedAt: known.renewedAt ?? null,
    renewalError: known.renewalError ?? null,
    renewalRetryAfter: known.renewalRetryAfter ?? null,
  };
  if (expiresAt === null && expirySource === 'odoo')
    return {
      ...base,
      state: 'never',
      secondsLeft: null,
      renewFrom: null,
      summary: 'the API key never lapses (a persistent key)',
    };
  if (!expiresAt)
    return {
      ...base,
      state: 'unknown',
      secondsLeft: null,
      renewFrom: null,
      summary:
        'when the API key lapses is unknown: set ODOO_API_KEY_EXPIRES_AT (Odoo 19 keys last 3 months at most)',
    };
  const leftMs = expiresAt.getTime() - nowMs;
  const days = Math.floor(leftMs / DAY_MS);
  const renewFrom = settings.rotate
    ? new Date(expiresAt.getTime() - settings.renewDays * DAY_MS)
    : null;
  const state: ApiKeyState =
    leftMs <= 0 ? 'lapsed' : leftMs < settings.warnDays * DAY_MS ? 'expiring' : 'ok';
  const when = expiresAt.toISOString();
  const plan = settings.rotate
    ? base.renewalError
      ? `; its last renewal failed: ${base.renewalError}${
          base.renewalRetryAfter
            ? ` (asked again from ${base.renewalRetryAfter.toISOString()})`
            : ''
        }`
      : `; a worker renews it from ${renewFrom!.toISOString()}`
    : state === 'expiring'
      ? '; erp-bridge does not renew it (ODOO_API_KEY_ROTATE=false): put a new key in ODOO_API_KEY before then'
      : '';
  const summary =
    state === 'lapsed'
      ? `the API key lapsed at ${when}: Odoo refuses every call; set a new ODOO_API_KEY${plan}`
      : `the API key lapses at ${when} (in ${days} days)${plan}`;
  return { ...base, state, secondsLeft: Math.round(leftMs / 1_000), renewFrom, summary };
}

/** The link's status from its row. */
export function describeLink(
  row: OdooLinkRow | undefined,
  settings: OdooApiKeyConfig | undefined,
  hasApiKey: boolean,
  nowMs: number,
): LinkStatus {
  const transport =
    row?.transport && row.transportChosenAt
      ? {
          protocol: row.transport,
          reason: row.transportReason ?? '',
          serverVersion: row.serverVersion,
          chosenAt: row.transportChosenAt,
        }
      : null;
  const schema = schemaSourceOf(transport, row?.modelDocRefusal ?? null);
  if (!hasApiKey || settings === undefined) return { transport, schema, apiKey: null };
  // The row knows the expiry a worker learned or asked for; before any did, the configuration's.
  const known = row?.keyExpirySource
    ? { expiresAt: row.keyExpiresAt, expirySource: row.keyExpirySource }
    : { expiresAt: settings.expiresAt, expirySource: settings.expiresAt ? 'config' : null };
  return {
    transport,
    schema,
    apiKey: describeApiKey(
      {
        ...known,
        renewedAt: row?.keyRenewedAt ?? null,
        renewalError: row?.renewalError ?? null,
        renewalRetryAfter: row?.renewalRetryAfter ?? null,
      },
      settings,
      nowMs,
    ),
  };
}

function schemaSourceOf(
  transport: TransportStatus | null,
  refusal: string | null,
): SchemaSourceStatus | null {
  if (transport === null) return null;
  if (transport.protocol !== 'json2')
    return {
      source: 'fields_get',
      reason: `${transport.protocol} has no /doc-bearer (JSON-2 only)`,
    };
  if (refusal !== null)
    return { source: 'fields_get', reason: `/doc-bearer/<model>.json refused: ${refusal}` };
  return {
    source: 'doc-bearer',
    reason:
      '/doc-bearer/<model>.json, revalidated by its ETag (fields_get where Odoo lacks the route)',
  };
}

/** The lines `npm run sync -- status` prints for the link. */
export function linkStatusLines(status: LinkStatus): string[] {
  const { transport, schema, apiKey } = status;
  return [
    'odoo',
    `  transport:     ${
      transport
        ? `${transport.protocol} (${transport.reason}; chosen ${transport.chosenAt.toISOString()})`
        : 'not chosen yet (a worker chooses at its first call)'
    }`,
    ...(schema ? [`  schema:        ${schema.source} (${schema.reason})`] : []),
    `  api key:       ${apiKey ? `${apiKey.state === 'ok' || apiKey.state === 'never' ? '' : `${apiKey.state.toUpperCase()}: `}${apiKey.summary}` : 'none (ODOO_PASSWORD)'}`,
  ];
}

/**
 * `check` for one source's Odoo (docs/sources.md, "Checking a deployment"): the server's version
 * and series, the transport and why, the credentials (a key's expiry), the skew between Odoo's
 * clock and PostgreSQL's, each family's models (family-check.ts), webhooks, the call budget.
 * Every line says OK, WARN or FAIL and what to do.
 *
 * It only reads: the version, the user's own context and keys, `has_access`, the models' fields
 * and one record of each, through the client it is given — whose calls take their turn in the
 * fleet's call budget like any other (check-clients.ts builds it so).
 */
import { isOdooError, type OdooClient } from '../clients/odoo/index.js';
import { majorVersion } from '../clients/odoo/server-version.js';
import type { OdooConfig } from '../config/odoo-config.js';
import { familyModels } from '../families/family.js';
import { describeError } from '../lib/errors.js';
import type { CallPause } from '../odoo-budget/call-budget.js';
import { soonestKeyExpiry } from '../odoo-link/odoo-key-calls.js';
import { fail, ok, warn, type CheckLine } from './check-report.js';
import { checkFamilies, type FamilyToCheck } from './family-check.js';
import { DEFAULT_SOURCE } from '../sources/family-key.js';

/** The series erp-bridge is tested against (README, "Tested against"). */
const TESTED_MAJORS = [17, 18, 19, 20];
/** Odoo supports its three latest majors: 17.0 is leaving that. */
const SUPPORTED_SINCE_MAJOR = 18;
/** A skew this small is within the precision of Odoo's clock as its answers give it. */
const CLOCK_OK_SECONDS = 5;
/**
 * Beyond this, one of the clocks is wrong: it is the margin the sync allows between Odoo's own
 * web and database servers (src/sync/settled.ts).
 */
const CLOCK_FAIL_SECONDS = 60;
const DAY_MS = 86_400_000;

export interface OdooCheckInput {
  readonly source: string;
  readonly odoo: OdooConfig;
  readonly client: OdooClient;
  readonly families: readonly FamilyToCheck[];
  /** Hashes of the webhook tokens this source's Odoo may post with. */
  readonly webhookTokens: number;
  /** PostgreSQL's clock now (`clock_timestamp()`). */
  readonly postgresNow: () => Promise<Date>;
  /** The fleet's pause of this Odoo's calls now on; `unknown` when its store did not answer. */
  readonly pause: () => Promise<CallPause | null | 'unknown'>;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
}

const day = (date: Date) => date.toISOString().slice(0, 10);

function seriesLine(serverVersion: string, major: number | undefined): CheckLine {
  const topic = 'version';
  if (major === undefined)
    return warn(
      topic,
      `Odoo answers a version erp-bridge cannot read (${serverVersion}): JSON-RPC is used`,
      'check ODOO_URL leads to Odoo itself, not a page in front of it',
    );
  if (!TESTED_MAJORS.includes(major))
    return warn(
      topic,
      `Odoo ${serverVersion}: erp-bridge is tested against ${TESTED_MAJORS.map((m) => `${m}.0`).join(', ')}`,
      major > TESTED_MAJORS.at(-1)!
        ? 'run the whole check and a first copy on a test database before production'
        : 'move to a supported Odoo (19.0 or 20.0)',
    );
  if (major < SUPPORTED_SINCE_MAJOR)
    return warn(
      topic,
      `Odoo ${serverVersion}: copied as any other, but leaving Odoo's support (Odoo keeps its three latest majors)`,
      'plan the move to 19.0 or 20.0 (JSON-2 and API keys that erp-bridge renews)',
    );
  return ok(topic, `Odoo ${serverVersion} (series ${major}.0)`);
}

function refusalLine(input: OdooCheckInput, error: unknown): CheckLine {
  const { odoo } = input;
  const topic = 'credentials';
  const secret = odoo.apiKey === undefined ? 'password (ODOO_PASSWORD)' : 'API key (ODOO_API_KEY)';
  if (isOdooError(error, 'ODOO_AUTH') && error.reason === 'API_KEY_EXPIRED')
    return fail(
      topic,
      error.message,
      `create a new key for ${odoo.username} (Odoo: Preferences → Account Security → New API Key) and set it as ODOO_API_KEY`,
    );
  if (isOdooError(error, 'ODOO_AUTH'))
    return fail(
      topic,
      `Odoo refused the ${secret} of ${odoo.username} on database ${odoo.database}`,
      `check ODOO_USERNAME and the ${secret}; a key that lapsed or was revoked is refused like a wrong one (check tried once: Odoo locks an address out after 10 failed logins in a minute)`,
    );
  if (
    (isOdooError(error, 'ODOO_HTTP') && error.httpStatus === 404) ||
    /database .* does not exist/i.test(describeError(error))
  )
    return fail(
      topic,
      `Odoo has no database ${odoo.database}`,
      'check ODOO_DATABASE (the database, not the company: Odoo lists them at /web/database/selector)',
    );
  return fail(
    topic,
    `the login failed: ${describeError(error)}`,
    'check ODOO_URL, ODOO_DATABASE and ODOO_USERNAME',
  );
}

async function keyLine(input: OdooCheckInput): Promise<CheckLine | undefined> {
  const { odoo, client } = input;
  if (odoo.apiKey === undefined) return undefined;
  const topic = 'api key';
  const settings = odoo.apiKeyLifecycle;
  const fromOdoo = await soonestKeyExpiry(client, input.signal);
  const expiresAt = settings.expiresAt ?? fromOdoo?.expiresAt;
  if (expiresAt === undefined)
    return warn(
      topic,
      'Odoo cannot say when the key lapses (17.0 keeps no expiry; or the sync user may not read its keys)',
      `set ODOO_API_KEY_EXPIRES_AT to its expiry: erp-bridge then warns ${settings.warnDays} days ahead`,
    );
  if (expiresAt === null)
    return ok(topic, 'never lapses (a persistent key: only an administrator can make one)');
  const now = input.now?.() ?? Date.now();
  const daysLeft = Math.floor((expiresAt.getTime() - now) / DAY_MS);
  const where = settings.expiresAt === undefined ? 'as Odoo says' : 'ODOO_API_KEY_EXPIRES_AT';
  const text = `lapses on ${day(expiresAt)}, in ${daysLeft} days (${where})`;
  const renewal = settings.rotate
    ? `erp-bridge renews it from ${day(new Date(expiresAt.getTime() - settings.renewDays * DAY_MS))} (ODOO_API_KEY_ROTATE; not on Odoo 19.0.0, which cannot)`
    : undefined;
  if (daysLeft <= settings.warnDays)
    return warn(
      topic,
      text,
      renewal ??
        `create a new key before ${day(expiresAt)} and set it as ODOO_API_KEY, or set ODOO_API_KEY_ROTATE=true`,
    );
  return ok(topic, text, renewal);
}

async function clockLine(input: OdooCheckInput): Promise<CheckLine> {
  const topic = 'clock';
  const before = await input.postgresNow();
  const odooDate = await input.client.clock({ signal: input.signal });
  const after = await input.postgresNow();
  if (odooDate === undefined)
    return warn(
      topic,
      "Odoo's answers carry no Date header: its clock cannot be compared",
      'have the proxy in front of Odoo pass its Date header on',
    );
  // Odoo's Date is whole seconds: its clock is within the second after it.
  const uncertaintyMs = 500 + (after.getTime() - before.getTime()) / 2;
  const skewMs = odooDate.getTime() + 500 - (before.getTime() + after.getTime()) / 2;
  const seconds = Math.round(Math.abs(skewMs) / 1_000);
  const text =
    Math.abs(skewMs) <= uncertaintyMs
      ? `Odoo's clock and PostgreSQL's agree (within ${Math.ceil(uncertaintyMs / 1_000)} s)`
      : `Odoo's clock is ${seconds} s ${skewMs > 0 ? 'ahead of' : 'behind'} PostgreSQL's`;
  const beyond = Math.abs(skewMs) - uncertaintyMs;
  if (beyond <= CLOCK_OK_SECONDS * 1_000) return ok(topic, text);
  const why =
    "the sync's windows follow Odoo's own clock, but PostgreSQL dates what erp-bridge keeps (the run log, the settled stamps, leases, the feed) and the key's warnings follow this machine's";
  if (beyond <= CLOCK_FAIL_SECONDS * 1_000)
    return warn(topic, text, `synchronise both clocks (NTP): ${why}`);
  return fail(
    topic,
    `${text}: more than the ${CLOCK_FAIL_SECONDS} s the sync allows between Odoo's own clocks, so one of them is wrong`,
    `synchronise Odoo's and PostgreSQL's clocks (NTP) before the first copy: ${why}`,
  );
}

function webhookLine(input: OdooCheckInput): CheckLine {
  const models = input.families.flatMap((family) =>
    'code' in family
      ? familyModels(family.code).map((model) => model.model)
      : [family.spec.root, ...family.spec.children].map((model) => model.model),
  );
  const rules = `one automation rule per model: ${[...new Set(models)].join(', ')} (README, "Changes pushed by Odoo")`;
  return input.webhookTokens === 0
    ? warn(
        'webhooks',
        `no webhook token is set for this source: changes reach the copy by polling alone, every ${input.source === DEFAULT_SOURCE ? 'SYNC_EVERY' : "source's schedule"}`,
        `for changes within a second, set ${input.source === DEFAULT_SOURCE ? 'ODOO_WEBHOOK_TOKENS' : 'its webhookTokens'} and in Odoo ${rules}`,
      )
    : ok(
        'webhooks',
        `${input.webhookTokens} webhook token${input.webhookTokens === 1 ? '' : 's'} set: Odoo posts to /hooks/odoo/<token> (whether its rules exist, the sync user may not read)`,
        `check Odoo has ${rules}`,
      );
}

async function budgetLine(input: OdooCheckInput): Promise<CheckLine> {
  const { budget } = input.odoo;
  const bounds = [
    budget.maxConcurrentCalls > 0
      ? `at most ${budget.maxConcurrentCalls} calls at once`
      : 'no bound on calls at once',
    budget.maxCallsPerSecond > 0 ? `${budget.maxCallsPerSecond} a second` : 'no bound a second',
  ].join(', ');
  const pause = await input.pause();
  if (pause === 'unknown')
    return warn(
      'call budget',
      `${bounds}; whether Odoo asked the fleet to pause is unknown: the shared state did not answer`,
      'check REDIS_URL (or the queue database) answers',
    );
  if (pause !== null)
    return warn(
      'call budget',
      `${bounds}; Odoo answered ${pause.status}: the fleet pauses its calls for ${Math.ceil(pause.remainingMs / 1_000)} s more`,
      'nothing, if it passes; if Odoo keeps asking, lower ODOO_MAX_CALLS_PER_SECOND',
    );
  return ok('call budget', `${bounds}; no pause on (the check's own calls took their turn in it)`);
}

/** Every line of the source's check, in the order they are printed. */
export async function checkOdoo(input: OdooCheckInput): Promise<CheckLine[]> {
  const { client, signal } = input;
  const lines: CheckLine[] = [];
  try {
    const choice = await client.transport({ signal });
    const version = choice.serverVersion ?? (await client.version({ signal })).serverVersion;
    lines.push(
      seriesLine(version, majorVersion({ serverVersion: version, versionInfo: [version] })),
      choice.deprecationWarning === undefined
        ? ok('transport', `${choice.protocol}: ${choice.reason}`)
        : warn('transport', `${choice.protocol}: ${choice.reason}`, choice.deprecationWarning),
    );
  } catch (error) {
    return [
      fail(
        'server',
        `Odoo does not answer at ${input.odoo.url}: ${describeError(error)}`,
        'check ODOO_URL, and that this machine reaches it; every other check needs it',
      ),
    ];
  }
  let loggedIn = false;
  try {
    const uid = await client.authenticate({ signal });
    loggedIn = true;
    lines.push(
      ok(
        'credentials',
        `${input.odoo.username} (uid ${uid}) logs in to ${input.odoo.database} with its ${input.odoo.apiKey === undefined ? 'password' : 'API key'}`,
      ),
    );
  } catch (error) {
    lines.push(refusalLine(input, error));
  }
  if (loggedIn) {
    const key = await keyLine(input).catch((error: unknown) =>
      warn('api key', `its expiry could not be read: ${describeError(error)}`, 'run check again'),
    );
    if (key) lines.push(key);
  }
  lines.push(await clockLine(input));
  if (loggedIn)
    lines.push(...(await checkFamilies(client, input.families, input.odoo.username, signal)));
  else if (input.families.length > 0)
    lines.push(
      fail(
        'families',
        `${input.families.map((family) => family.name).join(', ')}: not checked, Odoo refused the login`,
        'fix the credentials, then run check again',
      ),
    );
  lines.push(webhookLine(input), await budgetLine(input));
  return lines;
}

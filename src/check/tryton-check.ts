/**
 * `check` for the Tryton gateway (docs/tryton.md, "Checking the gateway"): trytond's version, the
 * paths it serves JSON-RPC at, the service account's login, and each model TRYTON_MODELS exposes
 * — that it exists, has the fields listed, and that the account may read it. Every line says OK,
 * WARN or FAIL and what to do.
 *
 * It reads only: `common.server.version`, the login (trytond keeps a session for it, which the
 * client's close logs out), the user's preferences, and each model's `fields_get` and
 * `search_count`. The client it is given renews no device cookie (check-clients.ts).
 */
import { trytonRpcPath } from '../clients/tryton/tryton-rpc-paths.js';
import type { TrytonClient } from '../clients/tryton/tryton-client.js';
import { TrytonError, TrytonRpcPathError } from '../clients/tryton/tryton-errors.js';
import type { TrytonConfig } from '../config/config.js';
import { describeError } from '../lib/errors.js';
import { fail, ok, warn, type CheckLine } from './check-report.js';

/** 6.0 LTS ended its maintenance in May 2026 (docs/tryton.md, section 7). */
const MAINTAINED = ['7.0', '8.0'];

function versionLine(version: string): CheckLine {
  const series = /^(\d+\.\d+)/.exec(version)?.[1];
  if (series !== undefined && MAINTAINED.includes(series))
    return ok('version', `trytond ${version} (an LTS series)`);
  if (series === '6.0')
    return warn(
      'version',
      `trytond ${version}: 6.0 LTS ended its maintenance in May 2026`,
      'move to 7.0 or 8.0 LTS; the gateway serves every one',
    );
  return warn(
    'version',
    `trytond ${version}: erp-bridge is tested against 6.0, 7.0 and 8.0`,
    'run the gateway tests against it before production (docs/tryton.md)',
  );
}

function loginRefusal(tryton: TrytonConfig, error: unknown): CheckLine {
  const code = error instanceof TrytonError ? error.code : undefined;
  if (code === 'TRYTON_AUTH_FAILED')
    return fail(
      'login',
      `trytond refused the login ${tryton.user} on database ${tryton.database}`,
      'check TRYTON_USER and TRYTON_PASSWORD (check tried once: trytond refuses every login for a while after 5 failures)',
    );
  if (code === 'TRYTON_AUTH_RATE_LIMITED')
    return fail(
      'login',
      `trytond refuses the logins of ${tryton.user} for now: too many failed ones`,
      "wait out trytond's [session] timeout (300 s by default), fix TRYTON_PASSWORD, then run check again",
    );
  if (code === 'TRYTON_UNKNOWN_DATABASE')
    return fail(
      'login',
      `trytond cannot open the database ${tryton.database}`,
      'check TRYTON_DATABASE, and that its database server answers trytond',
    );
  return fail('login', `the login failed: ${describeError(error)}`, 'check the TRYTON_* settings');
}

async function modelLines(
  client: TrytonClient,
  tryton: TrytonConfig,
  signal: AbortSignal | undefined,
): Promise<CheckLine[]> {
  if (tryton.models.length === 0)
    return [
      warn(
        'models',
        'TRYTON_MODELS names no model: the gateway forwards no read',
        'list the models the portal reads, each with its fields (party.party:name|code)',
      ),
    ];
  const lines: CheckLine[] = [];
  for (const exposed of tryton.models) {
    const topic = `model ${exposed.model}`;
    try {
      const fields = await client.call<Record<string, unknown>>(
        `model.${exposed.model}.fields_get`,
        [exposed.fields ?? null, {}],
        { signal },
      );
      const missing = (exposed.fields ?? []).filter((field) => !(field in fields));
      const count = await client.call<number>(`model.${exposed.model}.search_count`, [[], {}], {
        signal,
      });
      lines.push(
        missing.length > 0
          ? fail(
              topic,
              `${exposed.model} has no field ${missing.join(', ')} that TRYTON_MODELS lists`,
              'fix the field list in TRYTON_MODELS, or activate the module that adds them',
            )
          : ok(
              topic,
              `readable by ${tryton.user}: ${count} record${count === 1 ? '' : 's'}, ${exposed.fields === undefined ? 'every field' : `${exposed.fields.length} fields`} exposed`,
            ),
      );
    } catch (error) {
      const code = error instanceof TrytonError ? error.code : undefined;
      lines.push(
        code === 'TRYTON_USER_ERROR'
          ? fail(
              topic,
              `${tryton.user} may not read ${exposed.model}: ${describeError(error)}`,
              `give ${tryton.user} a group that reads ${exposed.model}, or leave it out of TRYTON_MODELS`,
            )
          : fail(
              topic,
              `${exposed.model} cannot be read: ${describeError(error)}`,
              'check the model name in TRYTON_MODELS and that its module is activated',
            ),
      );
    }
  }
  return lines;
}

/** Every line of the Tryton check, in the order they are printed. */
export async function checkTryton(
  client: TrytonClient,
  tryton: TrytonConfig,
  signal?: AbortSignal,
): Promise<CheckLine[]> {
  let version: string;
  try {
    version = (await client.ping({ signal })).version;
  } catch (error) {
    return [
      error instanceof TrytonRpcPathError
        ? fail(
            'rpc path',
            describeError(error),
            "set TRYTON_RPC_URL to trytond's base URL (http://host:8000, without a database or /rpc/)",
          )
        : fail(
            'server',
            `trytond does not answer at ${tryton.rpcUrl}: ${describeError(error)}`,
            'check TRYTON_RPC_URL, and that this machine reaches it; every other check needs it',
          ),
    ];
  }
  // 8.0 moved JSON-RPC under /rpc/; the client found the paths by asking the server itself.
  const layout = /^[0-7]\./.test(version) ? 'root' : 'rpc';
  const lines: CheckLine[] = [
    versionLine(version),
    ok(
      'rpc path',
      `JSON-RPC at ${trytonRpcPath(layout, 'server', tryton.database)} and ${trytonRpcPath(layout, 'database', tryton.database)} under TRYTON_RPC_URL`,
    ),
  ];
  try {
    await client.call('model.res.user.get_preferences', [true, {}], { signal });
    lines.push(ok('login', `${tryton.user} logs in to ${tryton.database}`));
  } catch (error) {
    lines.push(loginRefusal(tryton, error));
    return lines;
  }
  lines.push(...(await modelLines(client, tryton, signal)));
  return lines;
}

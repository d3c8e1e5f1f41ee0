/**
 * A real Odoo 19.0 for one test file (docs/odoo.md, "Tested against a real Odoo 19"):
 * `dev/services/odoo19-chroot.sh serve`, Debian's `odoo-19` in a trixie chroot built once and
 * cached outside the tree, started from a template database copied for this server alone, on
 * 127.0.0.1; `stop()` closes the script's standard input, and the script stops Odoo and its
 * PostgreSQL and removes their files. A server that cannot be had fails the file: never a skip.
 *
 * Also the JSON-2 call the tests make by hand (the sync user's key or the administrator's) and
 * what Odoo's log says of the calls it served.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { inject } from 'vitest';
import { commandBaseEnv } from './commands.js';

/**
 * How long a test file's hook may take to start Odoo 19: the first start on a machine builds the
 * chroot and the template (about 3 minutes here; more on a loaded machine or a slow mirror).
 * `npm test` builds them before the tests (dev/services/ensure-system.sh).
 */
export const ODOO19_START_TIMEOUT_MS = 900_000;

const SCRIPT = fileURLToPath(new URL('../../dev/services/odoo19-chroot.sh', import.meta.url));
const STOP_TIMEOUT_MS = 60_000;

export interface Odoo19 {
  /** Base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly database: string;
  /** The sync user: internal, not an administrator (see the script for its groups). */
  readonly username: string;
  readonly password: string;
  /** The sync user's API key, lasting the three months Odoo allows an internal user. */
  readonly apiKey: string;
  readonly apiKeyExpiresAt: Date;
  /** The administrator, whose key never lapses: the tests' hands in Odoo. */
  readonly admin: { readonly username: string; readonly password: string; readonly apiKey: string };
  /** `version` of `GET /web/version` (`19.0`), and the Debian package's (`19.0.0+dfsg-1`). */
  readonly version: string;
  readonly packageVersion: string;
  /** Odoo's process, as this machine sees it (its CPU is Odoo's). */
  readonly pid: number;
  /** Odoo's log so far: a line per request (werkzeug), warnings included. */
  log(): string;
  stop(): Promise<void>;
}

/** Starts a throw-away Odoo 19 (see the module header); rejects with the script's reasons. */
export async function startOdoo19(): Promise<Odoo19> {
  const child = spawn('bash', [SCRIPT, 'serve'], {
    // Nothing of the caller's ERP settings: the script's own defaults only.
    env: Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('ODOO_')),
    ),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGTERM'), STOP_TIMEOUT_MS);
    const code = await exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`odoo19-chroot.sh serve ended with ${code}: ${stderr}`);
  };
  const values: Record<string, string> = {};
  let ready = false;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === 'READY') {
      ready = true;
      break;
    }
    const split = line.indexOf('=');
    if (split > 0) values[line.slice(0, split)] = line.slice(split + 1);
  }
  const value = (name: string): string => {
    const found = values[name];
    if (found === undefined) throw new Error(`odoo19-chroot.sh serve printed no ${name}`);
    return found;
  };
  try {
    if (!ready) {
      await exited;
      throw new Error(`cannot start Odoo 19 (odoo19-chroot.sh serve): ${stderr.trim()}`);
    }
    const logPath = value('ODOO_LOG');
    return {
      url: value('ODOO_URL'),
      database: value('ODOO_DATABASE'),
      username: value('ODOO_USERNAME'),
      password: value('ODOO_PASSWORD'),
      apiKey: value('ODOO_API_KEY'),
      apiKeyExpiresAt: new Date(value('ODOO_API_KEY_EXPIRES_AT')),
      admin: {
        username: value('ODOO_ADMIN_USERNAME'),
        password: value('ODOO_ADMIN_PASSWORD'),
        apiKey: value('ODOO_ADMIN_API_KEY'),
      },
      version: value('ODOO_VERSION'),
      packageVersion: value('ODOO_PACKAGE_VERSION'),
      pid: Number(value('ODOO_PID')),
      log: () => readFileSync(logPath, 'utf8'),
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/** An answer of JSON-2: its status and its body, parsed when it is JSON. */
export interface Json2Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** `POST /json/2/<model>/<method>` with `body`, as a bearer of `key`. */
export async function json2(
  server: { url: string },
  key: string,
  model: string,
  method: string,
  body: Record<string, unknown> | unknown[],
): Promise<Json2Answer> {
  const response = await request(`${server.url}/json/2/${model}/${method}`, {
    method: 'POST',
    headers: { authorization: `bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.body.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // An HTML page (a 404 of the router): kept as text.
  }
  return { status: response.statusCode, headers: response.headers, body: parsed };
}

/**
 * The value of a JSON-2 call that must succeed: its body, or an error with Odoo's own message.
 */
export async function json2Value<T = unknown>(
  server: { url: string },
  key: string,
  model: string,
  method: string,
  body: Record<string, unknown>,
): Promise<T> {
  const answer = await json2(server, key, model, method, body);
  if (answer.status !== 200)
    throw new Error(
      `${model}.${method}: HTTP ${answer.status}: ${(answer.body as { message?: string }).message ?? String(answer.body)}`,
    );
  return answer.body as T;
}

/**
 * A warning raised outside Odoo's own code (docutils' when a module's description is rendered,
 * now and then, reported from docutils or from Python's optparse it calls): it says nothing of the
 * calls. Odoo's own are raised from a file under an `odoo/` folder.
 */
const LIBRARY_WARNING = /py\.warnings: (?!\S*\/odoo\/)\S+\.py:\d+:/;

/**
 * What Odoo's log says of the calls it served: the requests to the deprecated `/xmlrpc` and
 * `/jsonrpc` services, and every deprecation warning of Odoo's own (Odoo 19 writes one for each
 * such call, and for a deprecated ORM method such as `check_access_rights`).
 */
export function deprecatedCalls(log: string): { rpcRequests: string[]; warnings: string[] } {
  const lines = log.split('\n');
  return {
    rpcRequests: lines.filter((line) => /"(?:POST|GET) \/(?:xmlrpc|jsonrpc)\b/.test(line)),
    warnings: lines.filter(
      (line) => /\bWARNING\b.*deprecat/i.test(line) && !LIBRARY_WARNING.test(line),
    ),
  };
}

/**
 * An erp-bridge process's environment against `odoo` as its sync user, with its API key: the
 * test's database, the shared Redis under a prefix of the test's own.
 */
export function odoo19ProcessEnv(
  odoo: Odoo19,
  input: { databaseUrl: string; prefix: string },
): Record<string, string> {
  return {
    ...commandBaseEnv(),
    DATABASE_URL: input.databaseUrl,
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: input.prefix,
    ODOO_URL: odoo.url,
    ODOO_DATABASE: odoo.database,
    ODOO_USERNAME: odoo.username,
    ODOO_API_KEY: odoo.apiKey,
  };
}

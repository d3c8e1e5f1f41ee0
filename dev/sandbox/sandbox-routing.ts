/**
 * Which of the sandbox's databases a request is for, chosen as Odoo chooses it (docs/odoo.md,
 * "Several databases on one Odoo"):
 *
 * - XML-RPC and JSON-RPC name the database in their parameters (`login(db, …)`,
 *   `execute_kw(db, …)`); Odoo opens that database's registry, so a name no database has fails
 *   as PostgreSQL refuses the connection (`psycopg2.OperationalError`: fault 1 over XML-RPC, an
 *   `error` over JSON-RPC). `common.version` and the `db` service name none.
 * - JSON-2 and `/doc-bearer` serve the request's database, `request.db`: the one
 *   `X-Odoo-Database` names, or without that header the only database (Odoo's "monodb"). A name
 *   no database has, or several databases and no header, leave the request without a database,
 *   and Odoo answers with its 404 page "No database is selected" before it looks at the key.
 *
 * Each database logs the calls that name it and meets its own fault rules; the calls that reach
 * no database (the version, the `db` service, a database that does not exist) go to the
 * server's own log, which is the database's when the sandbox holds only one.
 */
import type { IncomingMessage } from 'node:http';
import type { Answer, PreparedCall } from './sandbox-answer.js';
import type { SandboxDatabase } from './sandbox-database.js';
import { moduleError, type OdooException } from './sandbox-exceptions.js';
import { SandboxFaults, type SandboxCallInfo } from './sandbox-faults.js';
import type { SandboxClock } from './sandbox-time.js';

/** Where a request's call is counted, meets its fault rules, and whose clock dates its answer. */
export interface CallSink {
  readonly faults: SandboxFaults;
  readonly clock: SandboxClock;
}

export interface SandboxDatabases {
  /** Every database's name, in the order they were given. */
  readonly names: readonly string[];
  /** The first database: the one the sandbox's top-level members are. */
  readonly first: SandboxDatabase;
  find(name: unknown): SandboxDatabase | undefined;
  /** The database a call names, or PostgreSQL's refusal of a name no database has. */
  require(name: unknown): SandboxDatabase;
  /** Odoo's `request.db`: the database `X-Odoo-Database` names, else the only one. */
  ofRequest(headers: IncomingMessage['headers']): SandboxDatabase | undefined;
  /** The log of the calls that reach no database. */
  readonly server: CallSink;
  /** Where the calls of `database` go (the server's log for none). */
  sinkOf(database: SandboxDatabase | undefined): CallSink;
}

export function createSandboxDatabases(databases: readonly SandboxDatabase[]): SandboxDatabases {
  const first = databases[0];
  if (first === undefined) throw new Error('a sandbox needs at least one database');
  const byName = new Map(databases.map((database) => [database.name, database]));
  if (byName.size !== databases.length) throw new Error('two databases of a sandbox share a name');
  const only = databases.length === 1 ? first : undefined;
  const server: CallSink = only ?? { faults: new SandboxFaults(1), clock: first.clock };
  const find = (name: unknown): SandboxDatabase | undefined =>
    typeof name === 'string' ? byName.get(name) : undefined;
  return {
    names: databases.map((database) => database.name),
    first,
    find,
    require(name) {
      const database = find(name);
      if (database === undefined) throw unknownDatabase(name);
      return database;
    },
    ofRequest(headers) {
      const named = headers['x-odoo-database'];
      // An empty header is no header (Odoo tests it for truth).
      if (typeof named === 'string' && named !== '') return find(named);
      return only;
    },
    server,
    sinkOf: (database) => database ?? server,
  };
}

/**
 * What Odoo raises opening the registry of a database PostgreSQL does not have (its message,
 * newline included, is libpq's; the address is the server's own).
 */
function unknownDatabase(name: unknown): OdooException {
  const shown = typeof name === 'string' ? name : String(name);
  return moduleError(
    'psycopg2.OperationalError',
    `connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: FATAL:  database "${shown}" does not exist\n`,
  );
}

/** `odoo.http.NOT_FOUND_NODB`: Odoo's 404 for a route that needs a database it has not got. */
const NOT_FOUND_NODB = `<!DOCTYPE html>
<title>404 Not Found</title>
<h1>Not Found</h1>
<p>No database is selected and the requested URL was not found in the server-wide controllers.</p>
<p>Please verify the hostname, <a href=/web/login>login</a> and try again.</p>

<!-- Alternatively, use the X-Odoo-Database header. -->
`;

const NO_DATABASE: Answer = {
  status: 404,
  contentType: 'text/html; charset=utf-8',
  body: NOT_FOUND_NODB,
};

/**
 * A JSON-2 or `/doc-bearer` call that no database serves: counted, and subject to the transport's
 * faults (latency, a proxy's page, a reset), but no Odoo exception can come of it, injected or
 * not: no database ran it.
 */
export function noDatabaseCall(info: SandboxCallInfo): PreparedCall {
  return {
    info,
    run: () => ({ result: undefined, answer: NO_DATABASE }),
    fail: () => NO_DATABASE,
    refuse: () => NO_DATABASE,
  };
}

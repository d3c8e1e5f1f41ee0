/**
 * `npm run apikey -- --role reader|operator|admin [--name NAME]`: prints a new API key and the
 * `API_KEYS` entry that grants it; `--webhook`: a token for Odoo's webhook URL and its
 * `ODOO_WEBHOOK_TOKENS` entry. Only the entry (a SHA-256) belongs in the configuration; the
 * secret is shown once and stored nowhere.
 */
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import {
  API_KEY_NAME,
  API_ROLES,
  generateApiKey,
  hashApiKey,
  type ApiRole,
} from '../config/api-keys.js';
import { generateSecret } from '../feed/secret.js';

const USAGE = `Usage: npm run apikey -- --role reader|operator|admin [--name NAME]
       npm run apikey -- --webhook
       npm run apikey -- --webhook-secret

Prints a new API key and its API_KEYS entry (name:role:sha256). Append the entry to API_KEYS
(comma-separated) and give the key to its user; it is not stored anywhere.

Roles: reader (BC endpoints), operator (+ sync control, Tryton gateway, metrics), admin (+ bull-board).

--webhook prints a token for the URL of Odoo's automation rule (POST /hooks/odoo/<token>) and
its ODOO_WEBHOOK_TOKENS entry (a SHA-256); see the README, "Changes pushed by Odoo".

--webhook-secret prints a Standard Webhooks secret (whsec_…) for a change feed subscription of
FEED_SUBSCRIPTIONS_FILE; see docs/feed.md.`;

function fail(message: string): never {
  process.stderr.write(`apikey: ${message}\n\n${USAGE}\n`);
  process.exit(64);
}

let values: {
  role?: string;
  name?: string;
  webhook?: boolean;
  'webhook-secret'?: boolean;
  help?: boolean;
};
try {
  ({ values } = parseArgs({
    options: {
      role: { type: 'string' },
      name: { type: 'string' },
      webhook: { type: 'boolean' },
      'webhook-secret': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (values.webhook) {
  // 256 bits, URL-safe: the token is the only credential Odoo's webhook can carry.
  const token = randomBytes(32).toString('base64url');
  process.stdout.write(
    `webhook token:             ${token}\nODOO_WEBHOOK_TOKENS entry: ${hashApiKey(token)}\n`,
  );
  process.exit(0);
}
if (values['webhook-secret']) {
  // The receiver keeps it to verify each delivery's signature; the file keeps it to sign them.
  process.stdout.write(`change feed subscription secret: ${generateSecret()}\n`);
  process.exit(0);
}
if (!values.role) fail('--role is required');
if (!API_ROLES.includes(values.role as ApiRole)) fail(`unknown role "${values.role}"`);
const role = values.role as ApiRole;
const name = values.name ?? `${role}-${new Date().toISOString().slice(0, 10)}`;
if (!API_KEY_NAME.test(name))
  fail('--name is 1 to 40 letters, digits, ".", "_" or "-", starting with a letter or digit');

const { key, entry } = generateApiKey(name, role);
process.stdout.write(`API key (${role}): ${key}\nAPI_KEYS entry:   ${entry}\n`);

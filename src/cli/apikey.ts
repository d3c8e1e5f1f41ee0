/**
 * `npm run apikey -- --role reader|operator|admin [--name NAME]`: prints a new API key and the
 * `API_KEYS` entry that grants it. Only the entry (a SHA-256) belongs in the configuration; the
 * key is shown once and stored nowhere.
 */
import { parseArgs } from 'node:util';
import { API_KEY_NAME, API_ROLES, generateApiKey, type ApiRole } from '../config/api-keys.js';

const USAGE = `Usage: npm run apikey -- --role reader|operator|admin [--name NAME]

Prints a new API key and its API_KEYS entry (name:role:sha256). Append the entry to API_KEYS
(comma-separated) and give the key to its user; it is not stored anywhere.

Roles: reader (BC endpoints), operator (+ sync control, Tryton gateway, metrics), admin (+ bull-board).`;

function fail(message: string): never {
  process.stderr.write(`apikey: ${message}\n\n${USAGE}\n`);
  process.exit(64);
}

let values: { role?: string; name?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      role: { type: 'string' },
      name: { type: 'string' },
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
if (!values.role) fail('--role is required');
if (!API_ROLES.includes(values.role as ApiRole)) fail(`unknown role "${values.role}"`);
const role = values.role as ApiRole;
const name = values.name ?? `${role}-${new Date().toISOString().slice(0, 10)}`;
if (!API_KEY_NAME.test(name))
  fail('--name is 1 to 40 letters, digits, ".", "_" or "-", starting with a letter or digit');

const { key, entry } = generateApiKey(name, role);
process.stdout.write(`API key (${role}): ${key}\nAPI_KEYS entry:   ${entry}\n`);

/** `npm run config:docs`: rewrites `.env.example` and the README's configuration table. */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderEnvExample, replaceReadmeTable } from '../src/config/config-docs.js';
import { answerUsage } from '../src/lib/command-usage.js';

answerUsage(`Usage: npm run config:docs

Rewrites .env.example and the README's configuration table from the configuration's schema
(src/config/settings/): run it after adding or changing a key; the suite fails while they differ.

Options:
  -h, --help   this help`);
writeFileSync('.env.example', renderEnvExample());
writeFileSync('README.md', replaceReadmeTable(readFileSync('README.md', 'utf8')));
process.stdout.write('wrote .env.example and the README configuration table\n');

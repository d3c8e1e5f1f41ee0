/** `npm run config:docs`: rewrites `.env.example` and the README's configuration table. */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderEnvExample, replaceReadmeTable } from '../src/config/config-docs.js';

writeFileSync('.env.example', renderEnvExample());
writeFileSync('README.md', replaceReadmeTable(readFileSync('README.md', 'utf8')));
process.stdout.write('wrote .env.example and the README configuration table\n');

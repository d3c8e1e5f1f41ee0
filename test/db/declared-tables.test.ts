/**
 * The migrations hold every table as it is declared — the engine's own (src/db/schema) and the
 * copy tables of the families declared in code, built from their declarations: drizzle-kit finds
 * nothing to generate against the last snapshot, as `npm run db:generate` would find nothing.
 */
import type * as DrizzleKit from 'drizzle-kit/api';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema/index.js';
import { CODE_FAMILIES } from '../../src/families/registry.js';
import * as bcs from '../../src/families/bcs/family.js';
import * as moves from '../../src/families/moves/family.js';
import * as partners from '../../src/families/partners/family.js';

const require = createRequire(import.meta.url);
const kit = require('drizzle-kit/api') as typeof DrizzleKit;

describe('the declared tables', () => {
  it('are what the migrations make: drizzle-kit generates nothing new', async () => {
    // Every family in code is read here, as drizzle.config.ts reads its family.ts.
    expect(CODE_FAMILIES.map((family) => family.name)).toEqual(['bcs', 'partners', 'moves']);
    const snapshots = readdirSync('drizzle/meta').filter((name) => name.endsWith('_snapshot.json'));
    const last = JSON.parse(
      readFileSync(`drizzle/meta/${snapshots.sort().at(-1)!}`, 'utf8'),
    ) as Parameters<typeof kit.generateMigration>[0];
    const declared = kit.generateDrizzleJson({ ...schema, ...bcs, ...partners, ...moves });
    expect(await kit.generateMigration(last, declared)).toEqual([]);
  });
});

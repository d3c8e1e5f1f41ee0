/**
 * `project.task` declared with no field list, on the sandbox serving Odoo 17.0's own schema: its
 * properties (`task_properties`, defined on each task's project) stay each with its own task when
 * tasks are deleted in Odoo before a verify reads the copy's tasks again by id. Odoo 17 pairs
 * such a read's properties with the wrong records (test/odoo/real-properties.test.ts): without
 * the client's second read, the verify "healed" every task after a deleted one with the next
 * task's properties.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db/sql-rows.js';
import { writeFamiliesFile, type FamiliesFile } from '../helpers/families-file.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

const TASK = 'project.task';
const PROJECT = 'project.project';
const FILE = `
families:
  - name: tasks
    model: ${TASK}
`;

describe('project.task of a real Odoo 17, with its properties', () => {
  let files: FamiliesFile;
  let h: SyncHarness;
  const c = () => h.sandbox.control;
  const tasks = () => h.runtime.sync.families.require('tasks');
  /** Each task's colour in the copy, by id. */
  const copiedColours = async () =>
    new Map(
      rowsOf<{ odoo_id: number; colour: string | null }>(
        await h.db.db.execute(sql`
          select odoo_id, task_properties -> 0 ->> 'value' as colour
          from scrap_project_task where archived_at is null`),
      ).map((row) => [row.odoo_id, row.colour]),
    );

  beforeAll(async () => {
    files = writeFamiliesFile(FILE);
    h = await createSyncHarness({
      sandbox: {
        realSchemas: {
          models: [TASK],
          records: { 'res.partner': 10, [PROJECT]: 2, [TASK]: 24, 'project.tags': 3 },
          linesPerMove: 0,
        },
      },
      loadFamilies: (db, odoo) => files.loadFamilies(db, odoo),
    });
    // Every task in a project that defines a colour, each with a colour of its own.
    const project = c().create(PROJECT, {
      name: 'Cylinders',
      task_properties_definition: [{ name: 'colour', type: 'char', string: 'Colour' }],
    });
    for (const id of c().ids(TASK))
      c().write(TASK, id, { project_id: project, task_properties: { colour: `colour of ${id}` } });
  });
  afterAll(async () => {
    await h.dispose();
    files.remove();
  });

  it('copies every task with its own properties', async () => {
    expect(await h.run('sync-run', { family: 'tasks', trigger: 'test' })).toMatchObject({
      status: 'succeeded',
    });
    expect(await h.diffWithSandbox(tasks())).toEqual([]);
    const colours = await copiedColours();
    expect(colours.size).toBe(24);
    for (const [id, colour] of colours) expect(colour).toBe(`colour of ${id}`);
  });

  it('a verify after tasks were deleted in Odoo archives them and leaves the others their own properties', async () => {
    const ids = c().ids(TASK);
    const deleted = [ids[3]!, ids[10]!, ids[11]!];
    c().unlink(TASK, deleted);
    const verified = await h.run('verify', { family: 'tasks', trigger: 'test', all: true });
    expect(verified).toMatchObject({ status: 'succeeded', archived: 3 });
    // Odoo drops a deleted task from the others' dependencies without stamping them: the verify
    // heals those, and those alone.
    const { driftFields } = verified as { driftFields: Record<string, Record<string, number>> };
    for (const field of Object.keys(driftFields[TASK] ?? {}))
      expect(field).toMatch(/^(links\.)?(dependent_ids|depend_on_ids)$/);
    expect(await h.diffWithSandbox(tasks())).toEqual([]);
    for (const [id, colour] of await copiedColours()) expect(colour).toBe(`colour of ${id}`);
  });
});

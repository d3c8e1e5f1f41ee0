/**
 * Odoo 17's `properties` fields as a real 17.0 server serves them (`project.task`'s
 * `task_properties`, defined on `project.project`), and the read that pairs them with the wrong
 * records: when a record asked for by id was deleted, Odoo 17 gives each record after it the next
 * one's properties, the last one none, and the deleted one back as a dict without `id`. The
 * sandbox answers as the real server did (dev/sandbox/sandbox-properties.ts); the client reads
 * every record's own properties all the same (docs/odoo.md, "Reads by id").
 */
import { describe, expect, it } from 'vitest';
import { PROTOCOLS, useSandbox, type SandboxHarness } from './sandbox-harness.js';
import { sandboxWire } from './sandbox-wire.js';

const TASK = 'project.task';
const PROJECT = 'project.project';
const DEFINITION = [
  { name: 'colour', type: 'char', string: 'Colour' },
  { name: 'size', type: 'integer', string: 'Size' },
  { name: 'owner', type: 'many2one', string: 'Owner', comodel: 'res.partner' },
];

let harness: SandboxHarness;
useSandbox(
  {
    seed: 3,
    realSchemas: {
      models: [TASK],
      records: { 'res.partner': 5, [PROJECT]: 2, [TASK]: 0 },
      linesPerMove: 0,
    },
  },
  (started) => (harness = started),
);
const { executeKw, value, fault } = sandboxWire(() => harness);
const control = () => harness.sandbox.control;

/** A project with DEFINITION and `count` tasks, each with properties of its own. */
function tasksWithProperties(count: number): { project: number; tasks: number[]; owner: number } {
  const project = control().create(PROJECT, {
    name: 'Cylinders',
    task_properties_definition: DEFINITION,
  });
  const [owner] = control().ids('res.partner');
  const tasks = Array.from({ length: count }, (_, i) =>
    control().create(TASK, {
      name: `Task ${i}`,
      project_id: project,
      task_properties: { colour: `colour ${i}`, size: i, owner },
    }),
  );
  return { project, tasks, owner: owner! };
}

const colours = (records: readonly Record<string, unknown>[]) =>
  records.map((record) => ({
    id: record.id,
    colour: (record.task_properties as { value: unknown }[] | undefined)?.[0]?.value,
  }));

describe('properties as Odoo 17 reads them', () => {
  it('a task reads its project’s definitions with its values; none without a project; no value key without values', async () => {
    const { tasks, owner } = tasksWithProperties(1);
    const bare = control().create(TASK, { name: 'No project' });
    const unvalued = control().create(TASK, {
      name: 'No values',
      project_id: control().records(TASK, { ids: tasks, fields: ['project_id'], load: '' })[0]!
        .project_id,
    });
    const read = (await value(
      executeKw(TASK, 'read', [[tasks[0], bare, unvalued], ['task_properties']]),
    )) as { id: number; task_properties: unknown }[];
    const [ownerName] = control().records('res.partner', {
      ids: [owner],
      fields: ['display_name'],
    });
    expect(read).toEqual([
      {
        id: tasks[0],
        task_properties: [
          { ...DEFINITION[0], value: 'colour 0' },
          { ...DEFINITION[1], value: 0 },
          { ...DEFINITION[2], value: [owner, ownerName!.display_name] },
        ],
      },
      { id: bare, task_properties: [] },
      { id: unvalued, task_properties: DEFINITION },
    ]);
  });

  it('a property without a value is null over JSON-RPC and fault 1 over XML-RPC, which cannot send None', async () => {
    const { project, tasks } = tasksWithProperties(1);
    control().write(PROJECT, project, {
      task_properties_definition: [...DEFINITION, { name: 'grade', type: 'char', string: 'Grade' }],
    });
    const { faultCode, faultString } = await fault(
      executeKw(TASK, 'read', [[tasks[0]], ['task_properties']]),
    );
    expect(faultCode).toBe(1);
    expect(faultString).toMatch(/TypeError: cannot marshal None unless allow_none is enabled/);
    const [task] = await harness.client('jsonrpc').read(TASK, [tasks[0]!], ['task_properties']);
    expect((task!.task_properties as { name: string; value: unknown }[]).at(-1)).toEqual({
      name: 'grade',
      type: 'char',
      string: 'Grade',
      value: null,
    });
  });

  it('reading a deleted task with others pairs their properties with the wrong tasks, as Odoo 17 does', async () => {
    const { tasks } = tasksWithProperties(4);
    control().unlink(TASK, tasks[1]!);
    const read = (await value(
      executeKw(TASK, 'read', [tasks, ['name', 'task_properties']]),
    )) as Record<string, unknown>[];
    expect(colours(read)).toEqual([
      { id: tasks[0], colour: 'colour 0' },
      // The deleted task: no id, the next one's properties.
      { id: undefined, colour: 'colour 2' },
      { id: tasks[2], colour: 'colour 3' },
      { id: tasks[3], colour: undefined },
    ]);
    expect(read[1]).toEqual({ task_properties: expect.any(Array) as unknown });
    expect(read[3]).toEqual({ id: tasks[3], name: 'Task 3' });
  });
});

describe('the client reads each record’s own properties', () => {
  it.each(PROTOCOLS.filter((protocol) => protocol !== 'json2'))(
    'over %s, reading again the records left when Odoo 17 paired the answer wrong',
    async (protocol) => {
      const { tasks } = tasksWithProperties(5);
      control().unlink(TASK, [tasks[1]!, tasks[3]!]);
      const calls = () => control().countCalls({ protocol, method: 'read' });
      const before = calls();
      const read = await harness.client(protocol).read(TASK, tasks, ['name', 'task_properties']);
      expect(colours(read)).toEqual([
        { id: tasks[0], colour: 'colour 0' },
        { id: tasks[2], colour: 'colour 2' },
        { id: tasks[4], colour: 'colour 4' },
      ]);
      expect(calls() - before).toBe(2);
    },
  );

  it('reads once when the deleted records leave nothing paired wrong', async () => {
    const { tasks } = tasksWithProperties(3);
    control().unlink(TASK, tasks[2]!);
    const calls = () => control().countCalls({ protocol: 'jsonrpc', method: 'read' });
    const before = calls();
    const read = await harness.client('jsonrpc').read(TASK, tasks, ['task_properties']);
    expect(colours(read).map((record) => record.colour)).toEqual(['colour 0', 'colour 1']);
    expect(calls() - before).toBe(1);
  });
});

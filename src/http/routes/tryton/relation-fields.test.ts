import { describe, expect, it } from 'vitest';
import type { TrytonClient } from '../../../clients/tryton/tryton-client.js';
import { TrytonRPCError } from '../../../clients/tryton/tryton-errors.js';
import { createRelationFields } from './relation-fields.js';

/** party.party's fields_get, cut to one field of each kind that matters. */
const PARTY_FIELDS = {
  name: { type: 'char' },
  rec_name: { type: 'char' },
  create_uid: { type: 'many2one', relation: 'res.user' },
  identifiers: { type: 'one2many', relation: 'party.identifier' },
  categories: { type: 'many2many', relation: 'party.category' },
  origin: { type: 'reference', selection: [] },
};

/** A client whose fields_get answers come from `answer`, counting the calls. */
function fakeClient(answer: (model: string) => Promise<unknown>) {
  const calls: string[] = [];
  const client = {
    call: (method: string) => {
      calls.push(method);
      return answer(method.replace(/^model\.|\.fields_get$/g, ''));
    },
  } as unknown as TrytonClient;
  return { client, calls };
}

describe('relation fields', () => {
  it("keeps a model's relations and their models, not its plain or reference fields", async () => {
    const { client } = fakeClient(() => Promise.resolve(PARTY_FIELDS));
    expect(await createRelationFields(client)('party.party')).toEqual(
      new Map([
        ['create_uid', 'res.user'],
        ['identifiers', 'party.identifier'],
        ['categories', 'party.category'],
      ]),
    );
  });

  it('asks Tryton once per model, concurrent checks sharing the call, until the answer is old', async () => {
    let nowMs = 0;
    const { client, calls } = fakeClient(() => Promise.resolve(PARTY_FIELDS));
    const relations = createRelationFields(client, () => nowMs);
    await Promise.all([relations('party.party'), relations('party.party')]);
    nowMs = 599_000;
    await relations('party.party');
    expect(calls).toEqual(['model.party.party.fields_get']);
    await relations('party.address');
    nowMs = 600_000;
    await relations('party.party');
    expect(calls).toEqual([
      'model.party.party.fields_get',
      'model.party.address.fields_get',
      'model.party.party.fields_get',
    ]);
  });

  it('keeps no failure: the next check asks again', async () => {
    const failure = new TrytonRPCError('TRYTON_SERVER_ERROR', "'no.such'", {
      errorName: "'no.such'",
    });
    let fail = true;
    const { client, calls } = fakeClient(() =>
      fail ? Promise.reject(failure) : Promise.resolve(PARTY_FIELDS),
    );
    const relations = createRelationFields(client);
    await expect(relations('party.party')).rejects.toBe(failure);
    fail = false;
    expect((await relations('party.party')).size).toBe(3);
    expect(calls).toHaveLength(2);
  });
});

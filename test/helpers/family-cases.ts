/**
 * The record families the loss tests of the sync run for besides the BC family (docs/sync.md,
 * "Record families": every rule holds for every family). Per family: its declaration, the sandbox
 * data that generates it, its models, a plain text field per model a test can edit, and what a
 * new root needs. The BC family's own tests stay in test/sync/; these cases drive
 * test/sync/families/.
 *
 * - `moves`: `account.move` with its `account.move.line`s; no archive flag (a move is live until
 *   it is deleted), and a line's change moves its move's stamp only when the move's amounts change.
 * - `partners`: `res.partner`, a root without children, archived with `active`.
 */
import type { OdooSandboxOptions } from '../../dev/sandbox/odoo-sandbox.js';
import type { SandboxControl } from '../../dev/sandbox/sandbox-control.js';
import type { RecordFamily } from '../../src/families/family.js';
import { movesFamily } from '../../src/families/moves/family.js';
import { partnersFamily } from '../../src/families/partners/family.js';

/** How many records a test wants: roots, and children per root where the family has them. */
export interface FamilySize {
  readonly roots: number;
  readonly childrenPerRoot?: number;
}

export interface FamilyCase {
  readonly family: RecordFamily;
  readonly rootModel: string;
  /** The family's child model; undefined for a root without children. */
  readonly childModel: string | undefined;
  /**
   * A plain text field of the root, for edits. A move's `ref` is part of its display name, which
   * its lines read in their `move_id`: an edit changes their data, never their stamps.
   */
  readonly rootText: string;
  /** A text field of the child (its label), for child-only edits. */
  readonly childText: string | undefined;
  /** A many2one of one of the family's models whose target's name Odoo translates. */
  readonly translated: { readonly model: string; readonly field: string };
  /** Whether the root archives in Odoo (`active`); a move has no archive flag. */
  readonly archivable: boolean;
  /**
   * The sandbox data: at least `roots` roots (the partners family also has the BC generator's
   * vendors), each with `childrenPerRoot` children.
   */
  sandbox(size: FamilySize): OdooSandboxOptions;
  /** The values of a new root, the `i`-th a test creates. */
  newRoot(i: number): Record<string, unknown>;
  /**
   * Live roots that no other record of the family lists: archiving, deleting or creating one
   * changes no other record's data. A contact's company lists it in `child_ids`, which Odoo does
   * not stamp.
   */
  standalone(control: SandboxControl): number[];
}

export const MOVES_CASE: FamilyCase = {
  family: movesFamily,
  rootModel: 'account.move',
  childModel: 'account.move.line',
  rootText: 'ref',
  childText: 'name',
  translated: { model: 'account.move.line', field: 'account_id' },
  archivable: false,
  sandbox: ({ roots, childrenPerRoot }) => ({
    moves: roots,
    linesPerMove: childrenPerRoot ?? 2,
  }),
  newRoot: (i) => ({ move_type: 'entry', ref: `NEW${i}` }),
  standalone: (control) => control.ids('account.move'),
};

export const PARTNERS_CASE: FamilyCase = {
  family: partnersFamily,
  rootModel: 'res.partner',
  childModel: undefined,
  rootText: 'email',
  childText: undefined,
  translated: { model: 'res.partner', field: 'country_id' },
  archivable: true,
  sandbox: ({ roots }) => ({ partners: roots }),
  newRoot: (i) => ({ name: `New contact ${i}`, email: `new${i}@example.ma` }),
  standalone: (control) =>
    control
      .records('res.partner', { load: '', fields: ['parent_id', 'child_ids', 'active'] })
      .filter(
        (partner) =>
          partner.active === true &&
          partner.parent_id === false &&
          (partner.child_ids as number[]).length === 0,
      )
      .map((partner) => partner.id),
};

/** Every family case: the guarantees about roots run for each. */
export const FAMILY_CASES: readonly FamilyCase[] = [MOVES_CASE, PARTNERS_CASE];

/** The ids of a root's children in the sandbox's committed state (none for a root alone). */
export function childIdsOf(control: SandboxControl, c: FamilyCase, rootId: number): number[] {
  const child = c.family.children[0];
  if (!child) return [];
  return control
    .records(child.model, { load: '', fields: [child.parentField] })
    .filter((record) => record[child.parentField] === rootId)
    .map((record) => record.id);
}

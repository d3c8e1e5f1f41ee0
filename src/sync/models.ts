/** The two Odoo models the sync copies, and the names it keys its state and audit rows on. */
export const BC_MODEL = 'dimagaz.bc';
export const BC_LINE_MODEL = 'dimagaz.bc.line';

/** The sync_state key of the BC sync. */
export const BC_SYNC_KEY = 'dimagaz.bc';

/** The field of a line that points at its BC. */
export const LINE_PARENT_FIELD = 'bc_id';

/** Fields the mapping needs whatever `fields_get` says (a model without them is not a BC). */
export const REQUIRED_BC_FIELDS = ['write_date'] as const;
export const REQUIRED_LINE_FIELDS = ['write_date', LINE_PARENT_FIELD] as const;

/**
 * The BC family's copy tables as drizzle tables, as its declaration builds them (family.ts):
 * `scrap_dimagaz_bc`, one row per Odoo `dimagaz.bc` (purchase order), never hard-deleted;
 * `scrap_dimagaz_bc_line`, one row per `dimagaz.bc.line`, tied to its BC by Odoo id.
 */
import { scrapDimagazBc, scrapDimagazBcLine } from './family.js';

export { scrapDimagazBc, scrapDimagazBcLine };

export type BcRow = typeof scrapDimagazBc.$inferSelect;
export type BcLineRow = typeof scrapDimagazBcLine.$inferSelect;

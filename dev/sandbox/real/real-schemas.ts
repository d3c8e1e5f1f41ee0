/**
 * How a test asks for models served from a real Odoo 17.0's dumps (`createOdooSandbox({
 * realSchemas })`, the CLI's `--real-models`): which, how many records of each, and what the API
 * user may not read.
 */
import type { SandboxDeniedModel } from '../sandbox-access.js';
import type { DumpedModel } from './schema-dump.js';

export interface SandboxRealSchemas {
  /**
   * Models to serve from their dumps; the dumped models they point at that the sandbox does not
   * declare come with them (`mail.followers`, `mail.message`, `mail.activity` for any thread).
   * Each replaces the sandbox's own model of that name (`res.partner`, `account.move`…).
   */
  models: readonly DumpedModel[];
  /**
   * New records per loaded model (default none), besides those the sandbox's other generators
   * make in it (the BC generator's vendors in `res.partner`, `partners`, `moves`), which are
   * completed to every field of the dump.
   */
  records?: Partial<Record<DumpedModel, number>>;
  /** Lines of each new `account.move`, when `account.move.line` is loaded too (default 3). */
  linesPerMove?: number;
  /**
   * Models the API user may not read (fault 4 on `read`, `search_read`, `search`,
   * `search_count`, and on reading a one2many into them); default what the dumps' user was
   * refused: `stock.valuation.layer` (no Inventory rights).
   */
  unreadable?: readonly SandboxDeniedModel[];
}

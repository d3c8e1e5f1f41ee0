/**
 * The Odoo client's public surface: the factory, its types, the error and the value helpers.
 * Callers import from here, never from a transport.
 */
export { createOdooClient, type OdooClientDeps } from './odoo-client.js';
export type { OdooTransportChoice } from './transport-choice.js';
export type {
  OdooAttemptBytes,
  OdooCallGate,
  OdooCallObserver,
  OdooCallPermit,
} from './odoo-attempts.js';
export { isOdooError, OdooError } from './odoo-errors.js';
export { OdooLargeText } from './large-texts.js';
export { createLoginMemo, type LoginMemo, type LoginMemoStore } from './login-memo.js';
export * from './odoo-types.js';
export * from './odoo-values.js';

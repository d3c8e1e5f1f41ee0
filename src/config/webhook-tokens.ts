/**
 * The tokens of Odoo's webhook URLs (POST /hooks/odoo/<token>) as the configuration holds them:
 * their SHA-256 digests, never the tokens (ODOO_WEBHOOK_TOKENS, a source's `webhookTokens`).
 */

/** One problem per digest that is not 64 hex characters, by its place in the list. */
export function webhookTokenProblems(digests: readonly string[]): string[] {
  return digests.flatMap((digest, index) =>
    /^[0-9a-fA-F]{64}$/.test(digest)
      ? []
      : [`entry ${index + 1} is not the SHA-256 (64 hex characters) of a token`],
  );
}

/**
 * The Odoo link as `GET /api/sync/state` shows it: the transport and why, how the schema is read,
 * the API key's expiry.
 */
import { z } from 'zod';
import type { LinkStatus } from '../../odoo-link/link-status.js';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export const odooLinkSchema = z
  .object({
    transport: z
      .object({
        protocol: z.string().describe('xmlrpc, jsonrpc or json2'),
        reason: z.string().describe('why (ODOO_PROTOCOL, and with auto the version and the key)'),
        serverVersion: z.string().nullable(),
        chosenAt: z.string(),
      })
      .nullable()
      .describe('as the last worker to start chose it; null before any did'),
    schema: z
      .object({
        source: z.enum(['doc-bearer', 'fields_get']),
        reason: z.string(),
      })
      .nullable()
      .describe(
        "how the workers read a model's schema, and why; null before a transport is chosen",
      ),
    apiKey: z
      .object({
        state: z.enum(['ok', 'expiring', 'lapsed', 'never', 'unknown']),
        expiresAt: z.string().nullable(),
        expirySource: z.string().nullable().describe('config, odoo or renewal'),
        daysLeft: z.number().int().nullable(),
        rotate: z.boolean(),
        renewFrom: z.string().nullable(),
        renewedAt: z.string().nullable(),
        renewalError: z.string().nullable(),
        summary: z.string(),
      })
      .nullable()
      .describe('null without ODOO_API_KEY'),
  })
  .describe('OdooLink');

export function toOdooLinkBody(status: LinkStatus): z.infer<typeof odooLinkSchema> {
  const { transport, schema, apiKey } = status;
  return {
    transport: transport && { ...transport, chosenAt: transport.chosenAt.toISOString() },
    schema,
    apiKey: apiKey && {
      state: apiKey.state,
      expiresAt: iso(apiKey.expiresAt),
      expirySource: apiKey.expirySource,
      daysLeft: apiKey.secondsLeft === null ? null : Math.floor(apiKey.secondsLeft / 86_400),
      rotate: apiKey.rotate,
      renewFrom: iso(apiKey.renewFrom),
      renewedAt: iso(apiKey.renewedAt),
      renewalError: apiKey.renewalError,
      summary: apiKey.summary,
    },
  };
}

/**
 * The change feed's subscriptions an operator declares in a file (`FEED_SUBSCRIPTIONS_FILE`, YAML
 * or JSON), read and checked once at boot: every bad entry is named, as a bad key is. The file
 * holds the receivers' secrets: mount it as a secret.
 *
 * ```yaml
 * subscriptions:
 *   - name: portal
 *     url: https://portal.example.com/hooks/erp-bridge
 *     secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
 *     sources: [default, acme]   # default: the default source (every source: ['*'])
 *     families: [bcs]            # default: every family of those sources
 *     models: [dimagaz.bc]       # default: every model of those families
 *     from: now                  # now (default), oldest, or a position the feed gave
 * removed: [old-portal]          # deleted at once (one left out of the file is kept for a day)
 * ```
 */
import { z } from 'zod';
import { FAMILY_NAME } from '../families/family.js';
import { EVERY_SOURCE, familyKey, SOURCE_NAME } from '../sources/family-key.js';
import { POSITION_PATTERN } from '../feed/position.js';
import { secretProblem } from '../feed/secret.js';
import type { DeclaredSubscription } from '../feed/subscriptions.js';
import { readDeclarationFile } from './declaration-file.js';

export const SUBSCRIPTION_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * A receiver's URL: http(s), and no credentials in it. They would be kept in the clear beside the
 * sealed secret, and shown masked but never sent: the Standard Webhooks signature is what tells
 * the receiver a message is erp-bridge's.
 */
export const receiverUrl = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an http(s) URL' });
    return;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    ctx.addIssue({ code: 'custom', message: 'must be an http(s) URL' });
  if (url.username !== '' || url.password !== '')
    ctx.addIssue({
      code: 'custom',
      message:
        'must not carry credentials (user:password@): the signature authenticates each message',
    });
});

const subscriptionName = z
  .string()
  .regex(SUBSCRIPTION_NAME, 'must be lowercase letters, digits, - or _');

const entry = z
  .object({
    name: subscriptionName,
    url: receiverUrl,
    secret: z.string().superRefine((secret, ctx) => {
      const problem = secretProblem(secret);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    sources: z
      .array(
        z.union([
          z.literal(EVERY_SOURCE),
          z.string().regex(SOURCE_NAME, `must be a source's name or ${EVERY_SOURCE}`),
        ]),
      )
      .min(1)
      .optional(),
    families: z.array(z.string().regex(FAMILY_NAME, 'must be a family name')).default([]),
    models: z.array(z.string().min(1).max(128)).default([]),
    from: z
      .union([
        z.enum(['now', 'oldest']),
        z.string().regex(POSITION_PATTERN, 'must be now, oldest or a position'),
      ])
      .default('now'),
  })
  .strict();

const file = z
  .object({
    subscriptions: z.array(entry).default([]),
    removed: z.array(subscriptionName).default([]),
  })
  .strict();

/** Reads and checks the file; returns its subscriptions, or the problems (one per bad entry). */
export function readSubscriptionsFile(
  path: string,
  copiedFamilies: readonly string[],
  sources: readonly string[],
): { subscriptions: DeclaredSubscription[]; removed: string[]; problems: string[] } {
  const read = readDeclarationFile(path, file);
  if (!read.ok) return { subscriptions: [], removed: [], problems: read.problems };
  const problems: string[] = [];
  const names = new Set<string>();
  const subscriptions = read.data.subscriptions.map((declared, i): DeclaredSubscription => {
    if (names.has(declared.name))
      problems.push(`subscriptions[${i}].name: ${declared.name} is declared twice`);
    names.add(declared.name);
    for (const source of declared.sources ?? [])
      if (source !== EVERY_SOURCE && !sources.includes(source))
        problems.push(
          `subscriptions[${i}].sources: ${source} is no source here (sources: ${sources.join(', ')})`,
        );
    for (const family of declared.families)
      if (!copiedFamilies.includes(family))
        problems.push(
          `subscriptions[${i}].families: ${family} is not copied here (SYNC_FAMILIES: ${copiedFamilies.join(', ')})`,
        );
    // A family named is that family of each source the subscription takes (docs/feed.md, "Whose
    // records"), and the feed keys a source's changes by the family's key: named alone, a
    // family would match the default source's changes and no other's. None named: the default
    // source's, whose keys are the names.
    const takes = declared.sources?.includes(EVERY_SOURCE) ? sources : declared.sources;
    return {
      name: declared.name,
      url: declared.url,
      secret: declared.secret,
      ...(declared.sources === undefined ? {} : { sources: declared.sources }),
      families:
        takes === undefined
          ? declared.families
          : takes.flatMap((source) => declared.families.map((family) => familyKey(source, family))),
      models: declared.models,
      start:
        declared.from === 'now' || declared.from === 'oldest'
          ? declared.from
          : { position: declared.from },
    };
  });
  read.data.removed.forEach((name, i) => {
    if (names.has(name))
      problems.push(`removed[${i}]: ${name} is declared in subscriptions too: keep one`);
  });
  return { subscriptions, removed: read.data.removed, problems };
}

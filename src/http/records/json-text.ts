/**
 * The read API's answers written as JSON text around the bodies PostgreSQL built
 * (record-bodies.ts): a page, and a record with the members its route adds. The text is sent as
 * it is (send-json-text.ts): parsing the bodies to write them again would cost the API more than
 * the query.
 */
import { z } from 'zod';
import type { JsonPage } from './bounded-page.js';

/** A page as its answer: `{"items":[…],"nextCursor":…}`. */
export const pageJson = (page: JsonPage): string =>
  `{"items":${page.itemsJson},"nextCursor":${JSON.stringify(page.nextCursor)}}`;

/** The schema of a page of `item`s, as pageJson writes it (and a link page is answered). */
export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** Members whose values are JSON text already, as an object's text. */
export const objectJson = (members: readonly (readonly [string, string])[]): string =>
  `{${members.map(([key, json]) => `${JSON.stringify(key)}:${json}`).join(',')}}`;

/** An object's text (a record's body) with `members`, JSON text already, added at its end. */
export function withMembers(
  objectText: string,
  members: readonly (readonly [string, string])[],
): string {
  const added = members.map(([key, json]) => `,${JSON.stringify(key)}:${json}`).join('');
  return `${objectText.slice(0, objectText.lastIndexOf('}'))}${added}}`;
}

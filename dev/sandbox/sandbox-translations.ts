/**
 * Translated values: like Odoo 16+'s jsonb columns, a translatable field holds one text per
 * language code, and reads it in the context's language with a fallback to the source language.
 */

/** The language reads answer in when the caller's context names none (Odoo's source language). */
export const SOURCE_LANG = 'en_US';

/** A translatable field's value — one text, or one text per language — in `lang`. */
export function translatedText(value: unknown, lang: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  const texts = value as Record<string, string>;
  return texts[lang] ?? texts[SOURCE_LANG] ?? Object.values(texts)[0] ?? null;
}

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderEnvExample, replaceReadmeTable } from './config-docs.js';
import { ENV_KEYS, envSchema } from './env-schema.js';

describe('configuration docs', () => {
  it('document exactly the keys of the schema', () => {
    expect(ENV_KEYS.map((doc) => doc.key).sort()).toEqual(Object.keys(envSchema.shape).sort());
  });

  it('.env.example is generated from the schema (run npm run config:docs)', () => {
    expect(readFileSync('.env.example', 'utf8')).toBe(renderEnvExample());
  });

  it("the README's configuration table matches the schema (run npm run config:docs)", () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(replaceReadmeTable(readme)).toBe(readme);
  });

  it('every documented default parses', () => {
    const defaults = Object.fromEntries(
      ENV_KEYS.filter((doc) => doc.default !== undefined).map((doc) => [doc.key, doc.default]),
    );
    expect(envSchema.safeParse(defaults).success).toBe(true);
  });
});

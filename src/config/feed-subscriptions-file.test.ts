import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CODE_FAMILIES } from '../families/registry.js';
import { loadConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-subscriptions-'));
const secret = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
const load = (text: string, env: Record<string, string> = {}) => {
  const path = join(dir, `subscriptions-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, text);
  return loadConfig(
    {
      DATABASE_URL: 'postgres://u@h/d',
      FEED_SUBSCRIPTIONS_FILE: path,
      FEED_SECRET_KEY: 'a-feed-secret-key-of-at-least-32-characters',
      ...env,
    },
    { mode: 'production', role: 'migrate', codeFamilies: CODE_FAMILIES },
  );
};

describe('FEED_SUBSCRIPTIONS_FILE', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives each subscription, starting now unless it says otherwise', () => {
    const config = load(`subscriptions:
  - { name: portal, url: "https://portal.example.com/hooks", secret: "${secret}", families: [bcs] }
  - { name: audit, url: "http://audit:8080/in", secret: "${secret}", from: oldest }
`);
    expect(config.feed.declared.subscriptions).toEqual([
      {
        name: 'portal',
        url: 'https://portal.example.com/hooks',
        secret,
        families: ['bcs'],
        models: [],
        start: 'now',
      },
      {
        name: 'audit',
        url: 'http://audit:8080/in',
        secret,
        families: [],
        models: [],
        start: 'oldest',
      },
    ]);
  });

  it("takes the sources a subscription names, or every source's, and refuses one that is no source here", () => {
    const config = load(`subscriptions:
  - { name: portal, url: "https://portal.example.com/hooks", secret: "${secret}", sources: [default] }
  - { name: lake, url: "https://lake.example.com/in", secret: "${secret}", sources: ['*'] }
  - { name: audit, url: "https://audit.example.com/in", secret: "${secret}" }
`);
    expect(
      config.feed.declared.subscriptions.map(({ name, sources }) => ({ name, sources })),
    ).toEqual([
      { name: 'portal', sources: ['default'] },
      { name: 'lake', sources: ['*'] },
      // None named: a new one takes the deployment's unnamed sources, a known one keeps its own.
      { name: 'audit', sources: undefined },
    ]);
    expect(config.feed.declared.unnamedSources).toEqual(['default']);
    expect(() =>
      load(`subscriptions:
  - { name: portal, url: "https://portal.example.com/hooks", secret: "${secret}", sources: [globex] }
`),
    ).toThrow(
      expect.objectContaining({
        problems: [
          {
            key: 'FEED_SUBSCRIPTIONS_FILE',
            message: 'subscriptions[0].sources: globex is no source here (sources: default)',
          },
        ],
      }),
    );
  });

  it("takes a family named as that family of each source the subscription takes, as the feed keys each source's", () => {
    const sourcesFile = join(dir, 'sources.yaml');
    writeFileSync(
      sourcesFile,
      `sources:
  - name: acme
    odoo: { url: "https://acme.odoo.example", database: acme, username: sync, password: { env: ACME_PASSWORD } }
`,
    );
    const config = load(
      `subscriptions:
  - { name: lake, url: "https://lake.example.com/in", secret: "${secret}", sources: ['*'], families: [bcs] }
  - { name: acme-portal, url: "https://acme.example.com/in", secret: "${secret}", sources: [acme], families: [bcs] }
  - { name: portal, url: "https://portal.example.com/in", secret: "${secret}", families: [bcs] }
`,
      { SYNC_SOURCES_FILE: sourcesFile, ACME_PASSWORD: 's3cret' },
    );
    expect(
      config.feed.declared.subscriptions.map(({ name, families }) => ({ name, families })),
    ).toEqual([
      { name: 'lake', families: ['bcs', 'acme.bcs'] },
      { name: 'acme-portal', families: ['acme.bcs'] },
      // None named: the default source's, whose family keys are the names.
      { name: 'portal', families: ['bcs'] },
    ]);
  });

  it('names every bad entry, never a secret', () => {
    const bad = 'whsec_c2hvcnQ=';
    expect(() =>
      load(`subscriptions:
  - { name: Portal, url: "ftp://x", secret: "${bad}", families: [cylinders] }
  - { name: p2, url: "http://x/", secret: "${secret}", families: [nope] }
`),
    ).toThrow(
      expect.objectContaining({
        message: expect.not.stringContaining(bad) as unknown as string,
        problems: expect.arrayContaining([
          expect.objectContaining({ message: expect.stringMatching(/^subscriptions\[0\]\.name:/) }),
          expect.objectContaining({ message: expect.stringMatching(/^subscriptions\[0\]\.url:/) }),
          expect.objectContaining({
            message: expect.stringMatching(/^subscriptions\[0\]\.secret: must hold 24 to 64 bytes/),
          }),
        ]) as unknown,
      }),
    );
    expect(() =>
      load(`subscriptions:
  - { name: p2, url: "http://x/", secret: "${secret}", families: [partners] }
`),
    ).toThrow(/subscriptions\[0\]\.families: partners is not copied here/);
  });

  it('refuses a receiver URL with credentials in it, never showing them', () => {
    const refusal = () =>
      load(`subscriptions:
  - { name: portal, url: "https://hook:s3cr3t@portal.example.com/in", secret: "${secret}" }
`);
    expect(refusal).toThrow(/subscriptions\[0\]\.url: must not carry credentials/);
    expect(refusal).toThrow(
      expect.objectContaining({
        message: expect.not.stringContaining('s3cr3t') as unknown as string,
      }),
    );
  });

  it('refuses subscriptions without FEED_SECRET_KEY: their secrets are sealed at rest', () => {
    expect(() =>
      load(
        `subscriptions:
  - { name: portal, url: "http://x/", secret: "${secret}" }
`,
        { FEED_SECRET_KEY: '' },
      ),
    ).toThrow(/FEED_SECRET_KEY: is required with FEED_SUBSCRIPTIONS_FILE's subscriptions/);
  });

  it('gives the subscriptions it removes, and refuses one both declared and removed', () => {
    expect(load('removed: [old-portal]').feed.declared).toEqual({
      subscriptions: [],
      removed: ['old-portal'],
      unnamedSources: ['default'],
    });
    expect(() =>
      load(`subscriptions:
  - { name: portal, url: "http://x/", secret: "${secret}" }
removed: [portal]
`),
    ).toThrow(/removed\[0\]: portal is declared in subscriptions too/);
  });

  it('refuses a LOG_FORMAT that says otherwise than LOG_PRETTY', () => {
    expect(() => load('subscriptions: []', { LOG_FORMAT: 'json', LOG_PRETTY: 'true' })).toThrow(
      /LOG_FORMAT/,
    );
    expect(load('subscriptions: []', { LOG_FORMAT: 'json' }).log.pretty).toBe(false);
    expect(load('subscriptions: []', { LOG_FORMAT: 'pretty' }).log.pretty).toBe(true);
  });
});

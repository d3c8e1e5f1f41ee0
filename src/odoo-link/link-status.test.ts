import { describe, expect, it } from 'vitest';
import type { OdooApiKeyConfig } from '../config/odoo-config.js';
import { describeApiKey, describeLink, linkStatusLines } from './link-status.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');
const settings: OdooApiKeyConfig = {
  warnDays: 14,
  rotate: false,
  renewDays: 30,
  lifetimeDays: 89,
  source: 'default',
};

describe('the API key status', () => {
  it('is ok far from its expiry, expiring within the warning days, lapsed after', () => {
    const at = (days: number) =>
      describeApiKey(
        { expiresAt: new Date(NOW + days * DAY), expirySource: 'odoo' },
        settings,
        NOW,
      );
    expect(at(40)).toMatchObject({ state: 'ok', secondsLeft: 40 * 86_400 });
    expect(at(10)).toMatchObject({
      state: 'expiring',
      summary: expect.stringContaining('ODOO_API_KEY_ROTATE=false'),
    });
    expect(at(-1)).toMatchObject({
      state: 'lapsed',
      secondsLeft: -86_400,
      summary: expect.stringContaining('Odoo refuses every call'),
    });
  });

  it('says when a worker renews it, or why its renewal failed', () => {
    const rotating = { ...settings, rotate: true };
    const expiresAt = new Date(NOW + 40 * DAY);
    expect(describeApiKey({ expiresAt, expirySource: 'renewal' }, rotating, NOW)).toMatchObject({
      renewFrom: new Date(NOW + 10 * DAY),
      summary: expect.stringContaining('a worker renews it from 2026-06-11'),
    });
    expect(
      describeApiKey(
        { expiresAt, expirySource: 'odoo', renewalError: 'Programmatic API keys are not enabled' },
        rotating,
        NOW,
      ).summary,
    ).toContain('its last renewal failed: Programmatic API keys are not enabled');
  });

  it('tells a persistent key from an unknown expiry', () => {
    expect(describeApiKey({ expiresAt: null, expirySource: 'odoo' }, settings, NOW).state).toBe(
      'never',
    );
    expect(
      describeApiKey({ expiresAt: undefined, expirySource: null }, settings, NOW),
    ).toMatchObject({
      state: 'unknown',
      summary: expect.stringContaining('ODOO_API_KEY_EXPIRES_AT'),
    });
  });

  it('takes ODOO_API_KEY_EXPIRES_AT until a worker learned better, and shows the transport', () => {
    const configured = { ...settings, expiresAt: new Date(NOW + 5 * DAY) };
    const status = describeLink(undefined, configured, true, NOW);
    expect(status).toMatchObject({
      transport: null,
      apiKey: { state: 'expiring', expirySource: 'config' },
    });
    expect(linkStatusLines(status).join('\n')).toMatch(/api key: +EXPIRING: the API key lapses/);
    expect(describeLink(undefined, configured, false, NOW).apiKey).toBeNull();
  });
});

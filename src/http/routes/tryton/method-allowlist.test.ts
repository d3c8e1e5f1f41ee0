import { describe, expect, it } from 'vitest';
import { DEFAULT_TRYTON_ALLOWED_METHODS } from '../../../config/env-schema.js';
import { createMethodAllowlist } from './method-allowlist.js';

describe('tryton method allowlist', () => {
  const allowed = createMethodAllowlist(DEFAULT_TRYTON_ALLOWED_METHODS.split(','));

  it('lets the default read methods through on models of any dotted name', () => {
    for (const method of [
      'model.party.party.search_read',
      'model.party.party.read',
      'model.account.invoice.line.search',
      'model.ir.attachment.search_count',
      'model.res.user.fields_get',
      'common.server.version',
    ]) {
      expect(allowed(method), method).toBe(true);
    }
  });

  it('refuses writes, other methods, and look-alikes', () => {
    for (const method of [
      'model.party.party.create',
      'model.party.party.write',
      'model.party.party.delete',
      'model.party.party.search_reader',
      'model.search_read',
      'model..search_read',
      'common.db.login',
      'common.server.version.x',
      'wizard.party.check_vies.create',
      'system.listMethods',
    ]) {
      expect(allowed(method), method).toBe(false);
    }
  });

  it('matches whole segments only, and rejects malformed patterns', () => {
    const custom = createMethodAllowlist(['model.party.*.read', ' wizard.*.create ']);
    expect(custom('model.party.party.read')).toBe(true);
    expect(custom('model.party.address.read')).toBe(true);
    expect(custom('model.partyx.party.read')).toBe(false);
    expect(custom('wizard.party.replace.create')).toBe(true);
    expect(() => createMethodAllowlist(['model.*party.read'])).toThrow(
      /invalid Tryton method pattern/,
    );
    expect(() => createMethodAllowlist(['model.(.*).read'])).toThrow(
      /invalid Tryton method pattern/,
    );
    expect(createMethodAllowlist([])('model.party.party.read')).toBe(false);
  });
});

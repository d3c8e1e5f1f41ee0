import { describe, expect, it } from 'vitest';
import { isAdminOnlyField, isSecretField } from './field-policy.js';

describe('the fields the copy leaves out unless named', () => {
  it.each([
    'password',
    'access_token',
    'signup_token',
    'totp_secret',
    'api_key',
    // Odoo's own credentials.
    'smtp_pass',
    'stripe_secret_key',
    'adyen_hmac_key',
    'google_drive_rtoken',
    'pin',
    'private_key',
    'x_vault_private_key',
  ])('%s holds a secret by its name', (name) => expect(isSecretField(name)).toBe(true));

  it.each(['name', 'partner_id', 'amount_total', 'pinned', 'passport_id', 'keyword', 'sort_key'])(
    '%s does not',
    (name) => expect(isSecretField(name)).toBe(false),
  );

  it("is a setting when only Odoo's administrators may read it, not when others may too", () => {
    expect(isAdminOnlyField('base.group_system')).toBe(true);
    expect(isAdminOnlyField('base.group_system,base.group_erp_manager')).toBe(true);
    expect(isAdminOnlyField('base.group_user')).toBe(false);
    expect(isAdminOnlyField('base.group_system,base.group_user')).toBe(false);
    expect(isAdminOnlyField('!base.group_portal')).toBe(false);
    expect(isAdminOnlyField(undefined)).toBe(false);
    expect(isAdminOnlyField('')).toBe(false);
  });
});

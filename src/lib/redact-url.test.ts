import { describe, expect, it } from 'vitest';
import { logSafeRequestUrl, redactUrl } from './redact-url.js';

describe('redactUrl', () => {
  it('masks credentials, secret query values and the webhook token, and nothing else', () => {
    expect(redactUrl('http://sync:p%40ss@odoo.example:8069/odoo')).toBe(
      'http://[redacted]@odoo.example:8069/odoo',
    );
    expect(redactUrl('redis://:s3cret@redis:6379/0')).toBe('redis://[redacted]@redis:6379/0');
    expect(redactUrl('https://odoo.example/web?db=x&password=hunter2&api_key=k&limit=5')).toBe(
      'https://odoo.example/web?db=x&password=[redacted]&api_key=[redacted]&limit=5',
    );
    expect(redactUrl('POST /hooks/odoo/abc-DEF_123?event=deleted')).toBe(
      'POST /hooks/odoo/[redacted]?event=deleted',
    );
    expect(redactUrl('/hooks%2Fodoo%2Fabc')).toBe('/hooks%2Fodoo%2F[redacted]');
    expect(redactUrl('http://odoo.example:8069')).toBe('http://odoo.example:8069');
    expect(redactUrl('/api/bcs?cursor=abc&sort=-name')).toBe('/api/bcs?cursor=abc&sort=-name');
  });
});

describe('logSafeRequestUrl', () => {
  it('keeps short URLs as they are and masks a token even when the cut falls inside it', () => {
    expect(logSafeRequestUrl('/api/bcs?limit=5')).toBe('/api/bcs?limit=5');
    const long = `/hooks/odoo/${'t'.repeat(5_000)}`;
    const safe = logSafeRequestUrl(long);
    expect(safe).toBe(`/hooks/odoo/[redacted]…(${long.length} characters)`);
  });

  it('masks the token of a path the router decodes to the webhook route, and decodes nothing else', () => {
    expect(logSafeRequestUrl('/hooks/%6fdoo/abc?event=deleted')).toBe(
      '/hooks/odoo/[redacted]?event=deleted',
    );
    expect(logSafeRequestUrl('/%68ooks/od%6Fo/abc%zz')).toBe('/hooks/odoo/[redacted]');
    // A reserved character's escape stays one: the segment ends where the router ends it.
    expect(logSafeRequestUrl('/hooks/%6fdoo%2fabc')).toBe('/hooks/odoo%2f[redacted]');
    expect(logSafeRequestUrl('/api/models/x%5Fy/records?q=%6f')).toBe(
      '/api/models/x%5Fy/records?q=%6f',
    );
  });
});

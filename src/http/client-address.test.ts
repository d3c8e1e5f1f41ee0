import { describe, expect, it } from 'vitest';
import { rateLimitAddress } from './client-address.js';

describe('rateLimitAddress', () => {
  it('keeps IPv4, groups IPv6 by /64, and reads IPv4-mapped IPv6 as IPv4', () => {
    expect(rateLimitAddress('192.0.2.7')).toBe('192.0.2.7');
    for (const address of [
      '2001:db8:1:2::1',
      '2001:0db8:0001:0002:ffff:ffff:ffff:fffe',
      '2001:db8:1:2:0:0:0:0',
      '2001:db8:1:2::1%eth0',
      '2001:db8:1:2::192.0.2.1',
    ])
      expect(rateLimitAddress(address), address).toBe('2001:db8:1:2::/64');
    expect(rateLimitAddress('::1')).toBe('0:0:0:0::/64');
    expect(rateLimitAddress('::')).toBe('0:0:0:0::/64');
    expect(rateLimitAddress('fe80::1')).toBe('fe80:0:0:0::/64');
    expect(rateLimitAddress('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(rateLimitAddress('::ffff:c000:207')).toBe('192.0.2.7');
    expect(rateLimitAddress('garbage')).toBe('garbage');
    expect(rateLimitAddress('x'.repeat(500))).toHaveLength(100);
  });
});

import { describe, expect, it } from 'vitest';
import { rateLimitAddress } from './client-address.js';

describe('rateLimitAddress: IPv4 kept, IPv6 grouped by /64, IPv4-mapped IPv6 read as IPv4', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:ffff:ffff:fffe', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:0:0:0:0', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::1%eth0', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::192.0.2.1', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
    ['::', '0:0:0:0::/64'],
    ['fe80::1', 'fe80:0:0:0::/64'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['::ffff:c000:207', '192.0.2.7'],
    ['garbage', 'garbage'],
  ])('%s counts as %s', (address, key) => {
    expect(rateLimitAddress(address)).toBe(key);
  });

  it('bounds what it keeps of a long value', () => {
    expect(rateLimitAddress('x'.repeat(500))).toHaveLength(100);
  });
});

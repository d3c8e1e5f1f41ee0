import { describe, expect, it } from 'vitest';
import { addressAllowed, literalAddress, parseAllowedHosts } from './receiver-address.js';

const none = parseAllowedHosts([]).rules;

describe("a receiver's address", () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.9', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['fe80::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:169.254.169.254', 'IPv4-mapped link-local'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'documentation'],
    ['2001:db8::1', 'documentation'],
    ['240.0.0.1', 'reserved'],
  ])('%s (%s) is refused unless allowed', (address) => {
    expect(addressAllowed(none, 'receiver.example', address)).toBe(false);
  });

  it.each(['93.184.216.34', '2606:4700:4700::1111', '::ffff:93.184.216.34'])(
    '%s, a global unicast address, is allowed',
    (address) => expect(addressAllowed(none, 'receiver.example', address)).toBe(true),
  );

  it('is allowed though special when FEED_ALLOWED_HOSTS names its range, its address or its host', () => {
    const { rules, problems } = parseAllowedHosts([
      '10.20.0.0/16',
      '127.0.0.1',
      'fd00::/8',
      'hooks.internal',
      '*.corp.example',
    ]);
    expect(problems).toEqual([]);
    expect(addressAllowed(rules, 'x.example', '10.20.3.4')).toBe(true);
    expect(addressAllowed(rules, 'x.example', '10.21.3.4')).toBe(false);
    expect(addressAllowed(rules, 'x.example', '127.0.0.1')).toBe(true);
    expect(addressAllowed(rules, 'x.example', '127.0.0.2')).toBe(false);
    expect(addressAllowed(rules, 'x.example', '::ffff:10.20.0.1')).toBe(true);
    expect(addressAllowed(rules, 'x.example', 'fd00::5')).toBe(true);
    expect(addressAllowed(rules, 'hooks.internal', '10.99.0.1')).toBe(true);
    expect(addressAllowed(rules, 'a.corp.example', '192.168.0.1')).toBe(true);
    expect(addressAllowed(rules, 'corp.example.evil', '192.168.0.1')).toBe(false);
  });

  it('names each entry of FEED_ALLOWED_HOSTS that is neither a host, an address nor a range', () => {
    expect(parseAllowedHosts(['10.0.0.0/33', 'not a host', 'ok.example']).problems).toEqual([
      '"10.0.0.0/33" is neither a host name, an address nor a CIDR range',
      '"not a host" is neither a host name, an address nor a CIDR range',
    ]);
  });

  it('is read from a URL literally, in brackets too, and not from a name', () => {
    expect(literalAddress(new URL('http://0x7f.1/').hostname)).toBe('127.0.0.1');
    expect(literalAddress(new URL('http://[::ffff:a00:1]/').hostname)).toBe('::ffff:a00:1');
    expect(literalAddress(new URL('http://receiver.example/').hostname)).toBeUndefined();
  });
});

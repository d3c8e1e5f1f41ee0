/**
 * Which addresses a subscription's receiver may be reached at (docs/feed.md, "Receivers"). A
 * subscription's URL is an admin's (or a file's) text, and a worker posts to it from inside the
 * deployment's network: to loopback, a link-local metadata service, a private or unique-local
 * address, it would be a way into that network. So every address a delivery connects to is
 * checked where the connection is made, on the address the name resolved to (a name that resolves
 * to a public address when the subscription is made and to a private one later is refused then):
 * anything but a global unicast address (ipaddr.js's ranges: loopback, private, linkLocal,
 * uniqueLocal, carrierGradeNat, an IPv4-mapped address by its IPv4, multicast, reserved …) is
 * refused, unless FEED_ALLOWED_HOSTS names the host or a range holding the address.
 *
 * Not for: authenticating the receiver (TLS and the signature's secret do that).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface ReceiverAddressRules {
  /** Host names allowed whatever they resolve to: exact, or `*.example.com` for its subdomains. */
  readonly hosts: readonly string[];
  /** Ranges allowed though special: `127.0.0.0/8`, `10.1.2.3/32`, `fd00::/8`. */
  readonly ranges: readonly (readonly [ipaddr.IPv4 | ipaddr.IPv6, number])[];
}

/** Nothing special allowed: the default. */
export const PUBLIC_RECEIVERS_ONLY: ReceiverAddressRules = { hosts: [], ranges: [] };

const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,62})(\.[a-z0-9]([a-z0-9-]{0,62}))*$/;

/**
 * FEED_ALLOWED_HOSTS's entries: host names and addresses or CIDR ranges.
 * @returns the rules, and a problem per entry that is neither
 */
export function parseAllowedHosts(entries: readonly string[]): {
  rules: ReceiverAddressRules;
  problems: string[];
} {
  const hosts: string[] = [];
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  const problems: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (ipaddr.isValidCIDR(entry)) ranges.push(ipaddr.parseCIDR(entry));
    else if (ipaddr.isValid(entry)) {
      const address = ipaddr.parse(entry);
      ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else if (HOST_PATTERN.test(entry)) hosts.push(entry);
    else problems.push(`"${raw}" is neither a host name, an address nor a CIDR range`);
  }
  return { rules: { hosts, ranges }, problems };
}

function hostAllowed(rules: ReceiverAddressRules, host: string): boolean {
  const name = host.toLowerCase();
  return rules.hosts.some((allowed) =>
    allowed.startsWith('*.') ? name.endsWith(allowed.slice(1)) : name === allowed,
  );
}

/** Whether `address` (text) may be connected to for `host`. */
export function addressAllowed(
  rules: ReceiverAddressRules,
  host: string,
  address: string,
): boolean {
  if (!ipaddr.isValid(address)) return false;
  // An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 address it is.
  const parsed = ipaddr.process(address);
  if (parsed.range() === 'unicast') return true;
  if (hostAllowed(rules, host)) return true;
  return rules.ranges.some(
    ([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits),
  );
}

/** The address a URL names literally (no lookup made), or undefined for a name. */
export function literalAddress(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(bare) ? bare : undefined;
}

/** Raised inside a connection's lookup: the delivery is refused, never attempted. */
export class ReceiverAddressRefused extends Error {
  readonly code = 'ERR_RECEIVER_ADDRESS_REFUSED';
  constructor(readonly host: string) {
    super(`the receiver ${host} resolves to an address deliveries may not reach`);
  }
}

/**
 * A `lookup` for the sockets of deliveries: the name resolved as `net.connect` would, then every
 * address checked; the connection is made only to allowed ones, and fails with
 * `ReceiverAddressRefused` when none is.
 */
export function guardedLookup(rules: ReceiverAddressRules): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, found: LookupAddress[]) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      const allowed = found.filter((entry) => addressAllowed(rules, hostname, entry.address));
      if (allowed.length === 0) {
        callback(new ReceiverAddressRefused(hostname), '', 0);
        return;
      }
      if (options.all)
        (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, allowed);
      else callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

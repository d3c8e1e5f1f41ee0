/**
 * One POST of a message to a receiver, over a keep-alive undici agent the sender owns. Any 2xx
 * acknowledges; anything else — another status, a timeout, a refused or cut connection — is a
 * `FeedDeliveryError` whose message says what happened, never what the receiver wrote. Redirects
 * are not followed. The caller's signal (the job's) cancels the request and its own error goes up.
 *
 * Every address it connects to is checked first (receiver-address.ts): a literal one before the
 * request, a name's where its socket resolves it. A receiver at an address deliveries may not
 * reach is `FEED_RECEIVER_REFUSED`, and nothing of it — no socket error, no status — is kept.
 */
import { Agent, type Dispatcher } from 'undici';
import { FeedDeliveryError } from './feed-errors.js';
import {
  addressAllowed,
  guardedLookup,
  literalAddress,
  PUBLIC_RECEIVERS_ONLY,
  type ReceiverAddressRules,
} from './receiver-address.js';

export interface FeedSender {
  send(
    url: string,
    headers: Record<string, string>,
    body: string,
    options: { signal: AbortSignal; timeoutMs: number },
  ): Promise<void>;
  close(): Promise<void>;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const refused = (cause?: unknown) =>
  new FeedDeliveryError(
    'FEED_RECEIVER_REFUSED',
    "the receiver's address is not one deliveries may reach (loopback, private, link-local or another special range): allow it in FEED_ALLOWED_HOSTS",
    { cause },
  );

/** Whether `error`, or an error it was caused by, is the lookup's refusal. */
function isRefusal(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause)
    if ((e as { code?: unknown }).code === 'ERR_RECEIVER_ADDRESS_REFUSED') return true;
  return false;
}

export function createFeedSender(
  options: { allowed?: ReceiverAddressRules; dispatcher?: Dispatcher } = {},
): FeedSender {
  const rules = options.allowed ?? PUBLIC_RECEIVERS_ONLY;
  const owned = options.dispatcher
    ? undefined
    : new Agent({ keepAliveTimeout: 10_000, connect: { lookup: guardedLookup(rules) } });
  const dispatcher = options.dispatcher ?? owned!;
  return {
    async send(url, headers, body, { signal, timeoutMs }) {
      const deadline = AbortSignal.timeout(timeoutMs);
      const target = new URL(url);
      // A literal address is connected to without a lookup: checked here instead.
      const literal = literalAddress(target.hostname);
      if (literal !== undefined && !addressAllowed(rules, target.hostname, literal))
        throw refused();
      let status: number;
      try {
        const response = await dispatcher.request({
          origin: target.origin,
          path: `${target.pathname}${target.search}`,
          method: 'POST',
          headers: { ...headers, 'user-agent': 'erp-bridge-feed' },
          body,
          signal: AbortSignal.any([signal, deadline]),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        status = response.statusCode;
        // What the receiver wrote is not ours to keep: read and dropped (bounded by undici).
        await response.body.dump();
      } catch (error) {
        if (signal.aborted) throw signal.reason ?? error;
        if (isRefusal(error)) throw refused(error);
        const code = (error as { code?: unknown }).code;
        if (deadline.aborted || (typeof code === 'string' && TIMEOUT_CODES.has(code)))
          throw new FeedDeliveryError(
            'FEED_RECEIVER_TIMEOUT',
            `the receiver did not answer within ${timeoutMs} ms`,
            { cause: error },
          );
        throw new FeedDeliveryError(
          'FEED_RECEIVER_NETWORK',
          `the receiver could not be reached (${typeof code === 'string' ? code : 'network error'})`,
          { cause: error },
        );
      }
      if (status < 200 || status > 299)
        throw new FeedDeliveryError('FEED_RECEIVER_STATUS', `the receiver answered ${status}`, {
          status,
        });
    },
    async close() {
      await owned?.close();
    },
  };
}

/**
 * One POST of a message to a receiver, over a keep-alive undici agent the sender owns. Any 2xx
 * acknowledges; anything else — another status, a timeout, a refused or cut connection — is a
 * `FeedDeliveryError` whose message says what happened, never what the receiver wrote. Redirects
 * are not followed. The caller's signal (the job's) cancels the request and its own error goes up.
 */
import { Agent, type Dispatcher } from 'undici';
import { FeedDeliveryError } from './feed-errors.js';

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

export function createFeedSender(options: { dispatcher?: Dispatcher } = {}): FeedSender {
  const owned = options.dispatcher ? undefined : new Agent({ keepAliveTimeout: 10_000 });
  const dispatcher = options.dispatcher ?? owned!;
  return {
    async send(url, headers, body, { signal, timeoutMs }) {
      const deadline = AbortSignal.timeout(timeoutMs);
      const target = new URL(url);
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

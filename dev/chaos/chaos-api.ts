/**
 * The chaos run's client of erp-bridge's HTTP API (README, "API"): what its oracle and its
 * consumers read, with the key each uses. An answer other than 2xx is an error carrying its
 * status; a request the API could not answer (it is restarting) is tried again for a while.
 */
import { request } from 'undici';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    path: string,
  ) {
    super(`${path} answered ${status}: ${body.slice(0, 300)}`);
  }
}

export interface ApiClient {
  readonly url: string;
  get<T>(path: string, key: string): Promise<T>;
  post<T>(path: string, key: string, body?: unknown): Promise<T>;
  /** The text of a route (metrics, a field value). */
  text(path: string, key: string): Promise<string>;
}

/** How long a request is tried again while the API does not answer (a restart takes seconds). */
const UNREACHABLE_FOR_MS = 60_000;

export function createApiClient(url: string): ApiClient {
  async function call(
    method: 'GET' | 'POST',
    path: string,
    key: string,
    body?: unknown,
  ): Promise<{ status: number; text: string }> {
    const giveUpAt = Date.now() + UNREACHABLE_FOR_MS;
    for (;;) {
      try {
        const response = await request(`${url}${path}`, {
          method,
          headers: {
            // bull-board, under /admin, takes the key as a basic-auth password (README, "Watching").
            authorization: path.startsWith('/admin/')
              ? `Basic ${Buffer.from(`chaos:${key}`).toString('base64')}`
              : `Bearer ${key}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          headersTimeout: 60_000,
          bodyTimeout: 60_000,
        });
        const text = await response.body.text();
        // 503: PostgreSQL away or the API stopping; 429: over its in-flight bound. Both pass.
        if ((response.statusCode === 503 || response.statusCode === 429) && Date.now() < giveUpAt) {
          await new Promise((resolve) => setTimeout(resolve, 500));
          continue;
        }
        return { status: response.statusCode, text };
      } catch (error) {
        if (Date.now() > giveUpAt) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
  const json = async <T>(method: 'GET' | 'POST', path: string, key: string, body?: unknown) => {
    const { status, text } = await call(method, path, key, body);
    if (status < 200 || status >= 300) throw new ApiError(status, text, path);
    return (text === '' ? null : JSON.parse(text)) as T;
  };
  return {
    url,
    get: (path, key) => json('GET', path, key),
    post: (path, key, body) => json('POST', path, key, body),
    async text(path, key) {
      const { status, text } = await call('GET', path, key);
      if (status < 200 || status >= 300) throw new ApiError(status, text, path);
      return text;
    },
  };
}

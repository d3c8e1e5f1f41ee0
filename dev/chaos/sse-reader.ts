/**
 * A reader of the change feed's stream (`GET /api/changes/stream`, server-sent events; README,
 * "React to changes") as a browser's EventSource reads it: it keeps the last event id it saw and,
 * whenever the stream ends — the API restarted, the network cut, or the run cut it on purpose —
 * connects again with `Last-Event-ID`, to resume right after it. It keeps every change in the
 * order it came, duplicates included: the oracle expects none, and no gap.
 */
import { request } from 'undici';
import type { ChangeBody } from '../../src/feed/change-body.js';

export interface SseReader {
  /** Every change received, in the order it came. */
  readonly changes: readonly ChangeBody[];
  /** Connections made, the first one included. */
  readonly connections: number;
  /** `gone` events and answers other than 200: the oracle expects none. */
  readonly errors: readonly string[];
  /** Cuts the connection now, and connects again `pauseMs` later. */
  disconnect(pauseMs: number): void;
  close(): void;
}

export function startSseReader(options: {
  readonly apiUrl: string;
  readonly key: string;
  /** Where it starts: the feed's head when the run began. */
  readonly after: string;
  readonly note: (line: string) => void;
}): SseReader {
  const changes: ChangeBody[] = [];
  const errors: string[] = [];
  let lastEventId = options.after;
  let connections = 0;
  let current: AbortController | undefined;
  let closed = false;
  let pauseMs = 1_000;

  async function connect(): Promise<void> {
    while (!closed) {
      const cut = new AbortController();
      current = cut;
      connections += 1;
      try {
        const response = await request(`${options.apiUrl}/api/changes/stream?source=*`, {
          headers: { authorization: `Bearer ${options.key}`, 'last-event-id': lastEventId },
          signal: cut.signal,
          bodyTimeout: 0,
        });
        if (response.statusCode !== 200) {
          const text = await response.body.text();
          // The API stopping answers 503; anything else is the stream's fault.
          if (response.statusCode !== 503)
            errors.push(`the stream answered ${response.statusCode}: ${text.slice(0, 200)}`);
        } else {
          await read(response.body);
        }
      } catch {
        // Cut, on purpose or not: connect again.
      }
      if (closed) return;
      const wait = pauseMs;
      pauseMs = 1_000;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  async function read(body: AsyncIterable<Buffer>): Promise<void> {
    let buffer = '';
    let event = 'message';
    let data = '';
    let id: string | undefined;
    for await (const chunk of body) {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line === '') {
          if (id !== undefined) lastEventId = id;
          if (event === 'change' && data !== '') changes.push(JSON.parse(data) as ChangeBody);
          if (event === 'gone') errors.push(`the stream said gone: ${data}`);
          event = 'message';
          data = '';
          id = undefined;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') id = value;
        else if (field === 'event') event = value;
        else if (field === 'data') data = data === '' ? value : `${data}\n${value}`;
      }
    }
  }

  connect().catch((error: unknown) => options.note(`the stream reader stopped: ${String(error)}`));
  return {
    changes,
    get connections() {
      return connections;
    },
    errors,
    disconnect(pause) {
      pauseMs = pause;
      current?.abort();
    },
    close() {
      closed = true;
      current?.abort();
    },
  };
}

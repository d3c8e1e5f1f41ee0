/**
 * QueueEvents on a connection of their own (they block on Redis streams). BullMQ never closes a
 * connection it was handed, so `close()` quits the duplicate too; without that, a CLI that is
 * done still would not exit.
 */
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';

export interface OwnedQueueEvents {
  readonly events: QueueEvents;
  readonly close: () => Promise<void>;
}

export function createQueueEvents(
  connection: Redis,
  queueName: string,
  prefix: string,
): OwnedQueueEvents {
  const own = connection.duplicate();
  const events = new QueueEvents(queueName, { connection: own, prefix });
  return {
    events,
    close: async () => {
      await events.close();
      await own.quit();
    },
  };
}

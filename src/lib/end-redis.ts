/**
 * Ends an ioredis connection whatever state it is in. QUIT lets the replies already asked for
 * come first, but only a connection that is ready can send it: one that fails fast
 * (`enableOfflineQueue: false`) refuses it while Redis is away, and would go on reconnecting for
 * ever, keeping its process alive. Such a connection is dropped at once instead.
 */
import type { Cluster, Redis } from 'ioredis';

export async function endRedis(connection: Redis | Cluster): Promise<void> {
  if (connection.status === 'ready') {
    try {
      await connection.quit();
      return;
    } catch {
      // Redis went away between the check and the QUIT: dropped below.
    }
  }
  connection.disconnect();
}

/**
 * What the API asks of the streaming replica it reads from (DATABASE_READ_URL): how far behind
 * the primary it is, in seconds and in WAL. A server that is not in recovery (DATABASE_READ_URL
 * naming the primary itself) is never behind. The API's reads and the feed on a replica are
 * described in docs/feed.md, "Reading from a replica".
 */
import type postgres from 'postgres';

/**
 * How stale the replica's data is: 0 while it has replayed all the WAL it received, else the age
 * of the last transaction it replayed. An idle primary sends no transactions, so a replica that
 * has caught up reads 0 however old its last one is; one that received WAL it has not replayed
 * (replay paused, or slower than the primary) reads the time since it last moved. Null when it
 * has replayed no transaction since it started.
 */
export async function readReplicaLagSeconds(sql: postgres.Sql): Promise<number | null> {
  const [row] = await sql<{ lag: number | null }[]>`
    select case
      when not pg_is_in_recovery() then 0
      when pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0
      else extract(epoch from now() - pg_last_xact_replay_timestamp())::float8
    end as lag`;
  return row?.lag ?? null;
}

/** The position in the primary's WAL after every transaction committed so far. */
export async function primaryWalPosition(sql: postgres.Sql): Promise<string> {
  // The insert position, not the write position: with asynchronous commit a commit record can be
  // inserted and not yet written, and the replica will replay it once it is.
  const [row] = await sql<{ lsn: string }[]>`select pg_current_wal_insert_lsn()::text as lsn`;
  if (!row) throw new Error('pg_current_wal_insert_lsn() returned no row');
  return row.lsn;
}

/** Whether the replica has replayed the primary's WAL up to `lsn` (always, on a primary). */
export async function hasReplayed(sql: postgres.Sql, lsn: string): Promise<boolean> {
  const [row] = await sql<{ replayed: boolean }[]>`
    select coalesce(pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn, true) as replayed`;
  return row?.replayed ?? false;
}

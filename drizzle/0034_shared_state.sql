CREATE TABLE "sync_call_budget" (
	"budget" text PRIMARY KEY NOT NULL,
	"in_flight" text[] DEFAULT '{}' NOT NULL,
	"in_flight_until" timestamp with time zone[] DEFAULT '{}' NOT NULL,
	"recent_until" timestamp with time zone[] DEFAULT '{}' NOT NULL,
	"pause_status" integer,
	"paused_until" timestamp with time zone,
	"pause_level" integer DEFAULT 0 NOT NULL,
	"pause_level_until" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "sync_shared_value" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "sync_shared_value_expires_idx" ON "sync_shared_value" USING btree ("expires_at");--> statement-breakpoint
-- As Redis keeps them, in memory: state worth nothing after a crash writes no WAL on every call.
ALTER TABLE "sync_call_budget" SET UNLOGGED;--> statement-breakpoint
ALTER TABLE "sync_shared_value" SET UNLOGGED;--> statement-breakpoint
-- The call budget's two steps (src/odoo-budget/postgres-budget-store.ts), as its Redis scripts
-- do them (src/odoo-budget/budget-scripts.ts says why a call counts against the rate from its
-- admission until a window after its release). Each locks its budget's row for the rest of its
-- transaction, so that the processes of the fleet decide one at a time, and reads the server's
-- clock once it holds it: machines whose clocks differ still share one window and one pause.
--
-- Returns admitted, else wait_ms (-1 when only a release can make room) and the reason.
CREATE FUNCTION "sync_call_budget_acquire"(
  p_budget text, p_attempt text, p_lease_ms integer, p_max_concurrent integer,
  p_max_per_second integer, p_window_ms integer,
  OUT admitted boolean, OUT wait_ms integer, OUT reason text
) LANGUAGE plpgsql AS $$
DECLARE
  now_at timestamptz;
  b sync_call_budget%ROWTYPE;
  ids text[];
  ids_until timestamptz[];
  recent timestamptz[];
  excess integer;
BEGIN
  admitted := false;
  IF p_max_concurrent = 0 AND p_max_per_second = 0 THEN
    -- Nothing to count: only a pause is read, and no process waits for another's lock for that.
    now_at := clock_timestamp();
    SELECT * INTO b FROM sync_call_budget WHERE budget = p_budget;
    IF b.paused_until > now_at THEN
      wait_ms := ceil(extract(epoch FROM b.paused_until - now_at) * 1000);
      reason := 'pause';
    ELSE
      admitted := true;
    END IF;
    RETURN;
  END IF;
  SELECT * INTO b FROM sync_call_budget WHERE budget = p_budget FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO sync_call_budget (budget) VALUES (p_budget) ON CONFLICT (budget) DO NOTHING;
    SELECT * INTO b FROM sync_call_budget WHERE budget = p_budget FOR UPDATE;
  END IF;
  now_at := clock_timestamp();
  IF b.paused_until > now_at THEN
    wait_ms := ceil(extract(epoch FROM b.paused_until - now_at) * 1000);
    reason := 'pause';
    RETURN;
  END IF;
  -- Leases run out (a process that died), released attempts leave the window.
  SELECT coalesce(array_agg(t.id ORDER BY t.until), '{}'),
         coalesce(array_agg(t.until ORDER BY t.until), '{}')
  INTO ids, ids_until
  FROM unnest(b.in_flight, b.in_flight_until) AS t(id, until) WHERE t.until > now_at;
  SELECT coalesce(array_agg(u ORDER BY u), '{}') INTO recent
  FROM unnest(b.recent_until) AS u WHERE u > now_at;
  IF p_max_concurrent > 0 AND cardinality(ids) >= p_max_concurrent THEN
    wait_ms := -1;
    reason := 'concurrency';
    RETURN;
  END IF;
  IF p_max_per_second > 0 THEN
    excess := cardinality(ids) + cardinality(recent) - p_max_per_second;
    IF excess >= 0 THEN
      reason := 'rate';
      IF excess >= cardinality(recent) THEN
        wait_ms := -1;
      ELSE
        wait_ms := ceil(extract(epoch FROM recent[excess + 1] - now_at) * 1000);
      END IF;
      RETURN;
    END IF;
  END IF;
  UPDATE sync_call_budget SET
    in_flight = ids || p_attempt,
    in_flight_until = ids_until || (now_at + p_lease_ms * interval '1 millisecond'),
    recent_until = recent
  WHERE budget = p_budget;
  admitted := true;
END $$;--> statement-breakpoint
-- Returns the pause it set in milliseconds, or 0 (p_status 0: no pause asked; p_retry_after_ms
-- -1: none). A 429 or 503 met while a pause is on was sent before it began: it neither escalates
-- the backoff nor shortens the pause (a longer Retry-After lengthens it).
CREATE FUNCTION "sync_call_budget_release"(
  p_budget text, p_attempt text, p_counts_in_window boolean, p_window_ms integer,
  p_status integer, p_retry_after_ms integer, p_base_ms integer, p_max_ms integer,
  p_retry_after_max_ms integer, p_level_ttl_ms integer
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  now_at timestamptz;
  b sync_call_budget%ROWTYPE;
  ids text[];
  ids_until timestamptz[];
  recent timestamptz[];
  current_ms double precision := 0;
  level integer := 0;
  pause_ms double precision := 0;
BEGIN
  SELECT * INTO b FROM sync_call_budget WHERE budget = p_budget FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO sync_call_budget (budget) VALUES (p_budget) ON CONFLICT (budget) DO NOTHING;
    SELECT * INTO b FROM sync_call_budget WHERE budget = p_budget FOR UPDATE;
  END IF;
  now_at := clock_timestamp();
  SELECT coalesce(array_agg(t.id ORDER BY t.until), '{}'),
         coalesce(array_agg(t.until ORDER BY t.until), '{}')
  INTO ids, ids_until
  FROM unnest(b.in_flight, b.in_flight_until) AS t(id, until)
  WHERE t.until > now_at AND t.id <> p_attempt;
  SELECT coalesce(array_agg(u ORDER BY u), '{}') INTO recent
  FROM unnest(b.recent_until) AS u WHERE u > now_at;
  IF p_counts_in_window THEN
    -- Its lease may have run out meanwhile: it still counts a window after its release.
    recent := recent || (now_at + p_window_ms * interval '1 millisecond');
  END IF;
  IF p_status <> 0 THEN
    current_ms := greatest(0, coalesce(extract(epoch FROM b.paused_until - now_at) * 1000, 0));
    IF b.pause_level_until > now_at THEN
      level := b.pause_level;
    END IF;
    IF current_ms > 0 AND (p_retry_after_ms < 0 OR p_retry_after_ms <= current_ms) THEN
      pause_ms := 0;
    ELSIF p_retry_after_ms >= 0 THEN
      pause_ms := floor(least(p_retry_after_ms, p_retry_after_max_ms));
    ELSE
      level := least(level + 1, 30);
      pause_ms := floor(least(p_max_ms, p_base_ms * 2 ^ (level - 1)));
    END IF;
  END IF;
  IF pause_ms > 0 THEN
    UPDATE sync_call_budget SET
      in_flight = ids, in_flight_until = ids_until, recent_until = recent,
      pause_status = p_status,
      paused_until = now_at + pause_ms * interval '1 millisecond',
      pause_level = level,
      pause_level_until = now_at + (pause_ms + p_level_ttl_ms) * interval '1 millisecond'
    WHERE budget = p_budget;
  ELSE
    UPDATE sync_call_budget SET in_flight = ids, in_flight_until = ids_until, recent_until = recent
    WHERE budget = p_budget;
  END IF;
  RETURN pause_ms;
END $$;

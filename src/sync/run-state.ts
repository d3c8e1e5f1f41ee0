/**
 * A run's step state, declared once: what its first step (start-run.ts) learned for its last
 * (finish-run.ts), and where its waves of pages stand. Its job keeps it between steps, in job data
 * (JSON): the schema writes an instant as its ISO text there (`encode`) and reads it back as a
 * Date (`parse`), so every step works with real instants, and the processor hands the state from
 * one step to the next as it is.
 */
import { z } from 'zod';
import { MAX_REPORTED_ERRORS, runErrorSchema } from './run-counts.js';

/** An instant: ISO text in job data, a Date in the steps. */
const instant = z.codec(z.iso.datetime(), z.date(), {
  decode: (text) => new Date(text),
  encode: (date) => date.toISOString(),
});

const count = z.number().int().nonnegative();

/** A run as its jobs carry it: its log row and its lease (run-lease.ts). */
export const runRefSchema = z.object({
  runId: z.number().int(),
  lease: z.object({ key: z.string(), owner: z.string(), token: z.number().int() }),
});

/** A run's schema as kept in PostgreSQL (schema-store.ts): its digest. */
export const schemaKeySchema = z.string().regex(/^[0-9a-f]{64}$/);

export const runStateSchema = z.object({
  run: runRefSchema,
  /** The next watermark of each model, as the scans proved them. */
  watermarks: z.record(z.string(), instant),
  /** What the run proves settled once it succeeds, and when it started (see settled.ts). */
  settledThrough: instant.nullable(),
  startedAt: instant.nullable(),
  /**
   * The last audit row committed when the run started: the rows it writes itself come after it
   * (absent: a run queued by an earlier version, whose own rows it then does not prove).
   */
  auditAfter: z.number().int().nonnegative().optional(),
  /** Odoo calls of the first step. */
  startCalls: count,
  /** Records the scans saw stamped later than Odoo's clock. */
  futureStamped: count,
  /** One2many relations whose target scan Odoo refused: they wait, the run goes on. */
  scanErrors: z.array(runErrorSchema).max(MAX_REPORTED_ERRORS).default([]),
  /** The schema every page of the run reads with. */
  schemaKey: schemaKeySchema,
  /** Pages of the whole run: their priority (see pagePriority in the job catalogue). */
  pageCount: count,
  /** Roots per page, as the run's start sized them (absent: a run queued by an earlier version). */
  pageSize: z.number().int().positive().optional(),
  /** Pages queued so far (absent: a run queued by an earlier version, which logs no progress). */
  pagesQueued: count.optional(),
  /** The last root id of the pages queued so far (0 before the first wave); null once all were. */
  pagesAfter: z.number().int().nonnegative().nullable(),
});

export type RunState = z.output<typeof runStateSchema>;

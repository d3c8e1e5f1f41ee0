/**
 * One model, one family, across the fleet (docs/sync.md, "One model, one family"). A process
 * refuses two families of one model itself; processes with different `SYNC_FAMILIES` do not see
 * each other's, and two families of one model would write its table under two leases, each
 * undoing the other's writes and neither fencing the other. So the claim is PostgreSQL's
 * (`sync_model_claim`): the first family to copy a model holds it; another family of that model
 * is refused while the holder was seen within a day, and takes the model over after that, when
 * no process has copied the holder for a day (a family renamed, or moved to a file). A source's
 * models are its own (docs/sources.md): a model of another source than the default is claimed as
 * `<source>:<model>`, so each source's family of a model holds it in that source alone.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { rowsOf, textArray } from '../db/sql-rows.js';
import { AppError } from '../lib/errors.js';
import { modelKey, splitFamilyKey } from '../sources/family-key.js';

/** A process claims again (and says it still copies the family) at most this often. */
const CLAIM_EVERY_MS = 10 * 60_000;

export interface TakenModel {
  readonly model: string;
  readonly family: string;
  readonly seenAt: Date;
}

/** A family's model is copied by another family of the fleet. */
export class ModelTakenError extends AppError {
  constructor(
    readonly family: string,
    readonly taken: readonly TakenModel[],
  ) {
    super(
      'FAMILY_MODEL_TAKEN',
      `family ${family} is not copied: ${taken
        .map(({ model, family: holder }) => `${model} is copied by family ${holder}`)
        .join(', ')} (sync_model_claim): one model is copied by one family. Stop the workers ` +
        `that copy the other family, or name this one in their SYNC_FAMILIES instead; a family ` +
        `no process has copied for a day gives its models up`,
      { retryable: false },
    );
  }
}

export interface ModelClaims {
  /**
   * Claims `models` for `family`, or refuses; after a claim, again only every few minutes.
   * @throws ModelTakenError when another family copied one of them within the day
   */
  ensure(family: string, models: readonly string[]): Promise<void>;
}

export function createModelClaims(db: Db, now: () => number = Date.now): ModelClaims {
  const claimedAt = new Map<string, number>();
  return {
    async ensure(family, models) {
      const last = claimedAt.get(family);
      if (last !== undefined && now() - last < CLAIM_EVERY_MS) return;
      const { source } = splitFamilyKey(family);
      const keys = models.map((model) => modelKey(source, model));
      const taken = await claimModels(db, family, keys);
      if (taken.length > 0) {
        claimedAt.delete(family);
        throw new ModelTakenError(family, taken);
      }
      claimedAt.set(family, now());
    },
  };
}

/** Claims what it can; returns the models another family holds. */
async function claimModels(
  db: Db,
  family: string,
  models: readonly string[],
): Promise<TakenModel[]> {
  // Each row waits for a concurrent claim of it: of two families claiming a new model at once,
  // the second finds the first's row and is refused.
  const claimed = new Set(
    rowsOf<{ model: string }>(
      await db.execute(sql`
        insert into sync_model_claim (model, family)
        select model, ${family} from unnest(${textArray(models)}::text[]) as wanted(model)
        on conflict (model) do update set
          family = excluded.family,
          claimed_at = case when sync_model_claim.family = excluded.family
            then sync_model_claim.claimed_at else now() end,
          seen_at = now()
        where sync_model_claim.family = excluded.family
           or sync_model_claim.seen_at < now() - interval '1 day'
        returning model`),
    ).map((row) => row.model),
  );
  const refused = models.filter((model) => !claimed.has(model));
  if (refused.length === 0) return [];
  return rowsOf<{ model: string; family: string; seen_at: string | Date }>(
    await db.execute(sql`
      select model, family, seen_at from sync_model_claim
      where model = any(${textArray(refused)}::text[]) order by model`),
  ).map((row) => ({ model: row.model, family: row.family, seenAt: new Date(row.seen_at) }));
}

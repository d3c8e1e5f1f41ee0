import { describe, expect, it } from 'vitest';
import { countOutcome, MAX_REPORTED_ERRORS, mergeReports, reportOf } from './run-counts.js';

const outcome = (action: Parameters<typeof countOutcome>[0]['action'], children = 0) => ({
  odooId: 1,
  action,
  childrenCreated: children,
  childrenUpdated: 0,
  childrenDeleted: 0,
});

describe('run counts', () => {
  it('counts each root once, a root whose children alone moved as updated', () => {
    expect(countOutcome(outcome('created'))).toMatchObject({ recordsSeen: 1, created: 1 });
    expect(countOutcome(outcome('unchanged'))).toMatchObject({ recordsSeen: 1, unchanged: 1 });
    expect(countOutcome(outcome('unchanged', 2))).toMatchObject({ recordsSeen: 1, updated: 1 });
    expect(countOutcome(outcome('stale'))).toMatchObject({ recordsSeen: 1, unchanged: 1 });
    expect(countOutcome(outcome('archived'))).toMatchObject({ recordsSeen: 1, archived: 1 });
  });

  it('adds reports up and keeps only the first errors', () => {
    const error = { code: 'X', message: 'x' };
    const merged = mergeReports(
      Array.from({ length: 30 }, () => reportOf({ failed: 1, odooCalls: 2 }, [error])),
    );
    expect(merged.counts).toMatchObject({ failed: 30, odooCalls: 60, created: 0 });
    expect(merged.errors).toHaveLength(MAX_REPORTED_ERRORS);
  });
});

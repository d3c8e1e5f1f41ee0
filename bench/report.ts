/**
 * The one table `npm run bench` ends with: every figure the performance goals name, its goal,
 * and how the figure stands against it. Each bench returns its rows; `bench/run.ts` prints them
 * together with the machine's Node and PostgreSQL versions.
 */

/** One measured figure and its goal. */
export interface GoalRow {
  /** The goal it belongs to (docs/performance.md numbers them). */
  readonly goal: string;
  readonly what: string;
  /** The figure as measured, with its unit. */
  readonly figure: string;
  /** The goal, with its unit (`≤ 250 MB`, `≥ 80 %`). */
  readonly target: string;
  /**
   * figure ÷ goal, oriented so that ≥ 1 meets it (a goal "at most X" gives X ÷ figure); undefined
   * for a figure printed for context only.
   */
  readonly ratio?: number;
}

/** A row for a figure that should stay at or under `limit` (one at or under zero meets any). */
export function atMost(
  goal: string,
  what: string,
  value: number,
  limit: number,
  unit: string,
  digits = 0,
): GoalRow {
  const ratio = value <= 0 ? Number.POSITIVE_INFINITY : limit / value;
  return measured(goal, what, `${value.toFixed(digits)} ${unit}`, `≤ ${limit} ${unit}`, ratio);
}

/** A row for a figure that should reach at least `floor`. */
export function atLeast(
  goal: string,
  what: string,
  value: number,
  floor: number,
  unit: string,
  digits = 0,
): GoalRow {
  return measured(
    goal,
    what,
    `${value.toFixed(digits)} ${unit}`,
    `≥ ${floor} ${unit}`,
    value / floor,
  );
}

function measured(goal: string, what: string, figure: string, target: string, ratio: number) {
  return { goal, what, figure: figure.trim(), target: target.trim(), ratio };
}

/** A figure printed for context, with no goal of its own. */
export function context(goal: string, what: string, figure: string): GoalRow {
  return { goal, what, figure, target: '' };
}

export function formatGoalTable(rows: readonly GoalRow[]): string {
  const cells = rows.map((row) => [
    row.goal,
    row.what,
    row.figure,
    row.target,
    row.ratio === undefined
      ? ''
      : row.ratio === Number.POSITIVE_INFINITY
        ? '∞'
        : row.ratio.toFixed(2),
    row.ratio === undefined ? '' : row.ratio >= 1 ? 'met' : 'MISSED',
  ]);
  const header = ['goal', 'what', 'figure', 'target', 'ratio', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** The median of `values` (an even count's two middle ones averaged): what runs are compared by. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const upper = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[upper]! : (sorted[upper - 1]! + sorted[upper]!) / 2;
}

/** A Markdown table: its header, its separator, a line per row. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string[] {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)];
}

/**
 * What `check` finds (docs/sources.md, "Checking a deployment"): a section per Odoo source and
 * one for Tryton, each a list of lines that say OK, WARN or FAIL with what to do; the text
 * `npm run sync -- check` prints and the JSON `GET /api/sync/check` answers are the same report.
 *
 * Not for: finding anything out. The checks are in odoo-check.ts, family-check.ts and
 * tryton-check.ts.
 */
import { z } from 'zod';

export const checkStatusSchema = z.enum(['ok', 'warn', 'fail']);
export type CheckStatus = z.infer<typeof checkStatusSchema>;

export const checkLineSchema = z.object({
  status: checkStatusSchema,
  /** What was checked: `version`, `credentials`, `family bcs`… */
  topic: z.string(),
  /** What was found. */
  text: z.string(),
  /** What to do about it; absent on an OK line that asks nothing. */
  action: z.string().optional(),
});
export type CheckLine = z.infer<typeof checkLineSchema>;

export const checkSectionSchema = z.object({
  /** `odoo` for a source's Odoo, `tryton` for the gateway's. */
  kind: z.enum(['odoo', 'tryton']),
  /** The source, for an Odoo section. */
  source: z.string().optional(),
  /** Which server, database and user, as the section's heading says (never a secret). */
  target: z.string(),
  lines: z.array(checkLineSchema),
  /** The calls the checks made to that server, every attempt counted. */
  calls: z.number().int().nonnegative(),
});
export type CheckSection = z.infer<typeof checkSectionSchema>;

export const checkReportSchema = z.object({
  /** No line says FAIL. */
  ok: z.boolean(),
  sections: z.array(checkSectionSchema),
});
export type CheckReport = z.infer<typeof checkReportSchema>;

export const ok = (topic: string, text: string, action?: string): CheckLine => ({
  status: 'ok',
  topic,
  text,
  ...(action === undefined ? {} : { action }),
});
export const warn = (topic: string, text: string, action: string): CheckLine => ({
  status: 'warn',
  topic,
  text,
  action,
});
export const fail = (topic: string, text: string, action: string): CheckLine => ({
  status: 'fail',
  topic,
  text,
  action,
});

export function reportOf(sections: readonly CheckSection[]): CheckReport {
  return {
    ok: sections.every((section) => section.lines.every((line) => line.status !== 'fail')),
    sections: [...sections],
  };
}

const LABEL = { ok: 'OK  ', warn: 'WARN', fail: 'FAIL' } as const;

/** The report as the CLI prints it: a heading per section, a line per check, then a verdict. */
export function renderReport(report: CheckReport): string {
  const out: string[] = [];
  for (const section of report.sections) {
    const what = section.kind === 'odoo' ? `Odoo, source ${section.source ?? '?'}` : 'Tryton';
    out.push(`${what}: ${section.target}`);
    const width = Math.max(...section.lines.map((line) => line.topic.length));
    for (const line of section.lines) {
      out.push(`  ${LABEL[line.status]}  ${line.topic.padEnd(width)}  ${line.text}`);
      if (line.action !== undefined) out.push(`  ${' '.repeat(width + 8)}→ ${line.action}`);
    }
    out.push(`  ${section.calls} call${section.calls === 1 ? '' : 's'} made`, '');
  }
  const count = (status: CheckStatus) =>
    report.sections.reduce(
      (n, section) => n + section.lines.filter((line) => line.status === status).length,
      0,
    );
  const [failed, warned] = [count('fail'), count('warn')];
  out.push(
    failed > 0
      ? `${failed} FAIL, ${warned} WARN: fix each FAIL before the first copy, then run check again.`
      : warned > 0
        ? `No FAIL, ${warned} WARN: erp-bridge can copy; each WARN says what it costs.`
        : 'Every check passed.',
  );
  return out.join('\n');
}

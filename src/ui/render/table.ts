import type { ChalkInstance } from '../color.js';
import { ALL_CODES } from '../../analyzers/codes.js';
import type { Finding } from '../../analyzers/types.js';
import type { CheckResult, CheckStatus } from '../../checks/types.js';
import type { CheckReport } from '../../checks/report.js';

/** Symbols (linkerd check style): pass, warning, failure, skipped. */
export const SYMBOLS: Record<CheckStatus, string> = { pass: '✔', warn: '‼', fail: '✖', skip: '○' };

function paint(c: ChalkInstance, status: CheckStatus, text: string): string {
  return status === 'pass' ? c.green(text) : status === 'warn' ? c.yellow(text) : status === 'fail' ? c.red(text) : c.dim(text);
}

function findingStatus(f: Finding): CheckStatus {
  return f.severity === 'error' ? 'fail' : f.severity === 'warning' ? 'warn' : 'skip';
}

/** `Kind ns/name (file:line)` of a finding. */
export function findingLocation(f: Finding): string {
  const res = `${f.resource.kind} ${f.resource.namespace ? `${f.resource.namespace}/` : ''}${f.resource.name}`;
  return f.file ? `${res} (${f.file}${f.line ? `:${f.line}` : ''})` : res;
}

function checkLines(r: CheckResult, c: ChalkInstance): string[] {
  const text = r.status === 'pass' ? `${r.description} ${c.dim(`(${r.message})`)}` : `${r.description}: ${r.message}`;
  const lines = [`${paint(c, r.status, SYMBOLS[r.status])} ${text}`];
  for (const d of r.details ?? []) lines.push(`    ${d}`);
  if (r.status !== 'pass') {
    if (r.hint) lines.push(c.dim(`    hint: ${r.hint}`));
    lines.push(c.dim(`    see ${r.docs}`));
  }
  return lines;
}

/**
 * The check part of the human report, written as results arrive (in catalog order), so `mesh
 * check` streams its lines even into a pipe or CI log: a category heading when the category
 * changes, the check's lines, a blank line between categories. {@link renderTable} is this plus
 * {@link renderTableTail}, so the streamed and the whole report are the same bytes.
 */
export class CheckTableStream {
  private category: string | undefined;
  constructor(
    private readonly write: (s: string) => void,
    private readonly c: ChalkInstance,
  ) {}
  /** Whether any check was written yet. */
  get started(): boolean {
    return this.category !== undefined;
  }
  /** Write one finished check. */
  check(r: CheckResult): void {
    let s = '';
    if (r.category !== this.category) {
      if (this.category !== undefined) s += '\n';
      s += `${r.category}\n${'-'.repeat(r.category.length)}\n`;
      this.category = r.category;
    }
    this.write(s + checkLines(r, this.c).join('\n') + '\n');
  }
  /** Close the last category and write findings and the status line. */
  end(report: CheckReport): void {
    this.write((this.category !== undefined ? '\n' : '') + renderTableTail(report, this.c));
  }
}

/**
 * The human report: checks grouped by category under underlined headings, then findings, then a
 * status line. Colour only through `c` (a no-op chalk when colour is off).
 */
export function renderTable(report: CheckReport, c: ChalkInstance): string {
  let out = '';
  const stream = new CheckTableStream((s) => (out += s), c);
  const categories: string[] = [];
  for (const r of report.checks) if (!categories.includes(r.category)) categories.push(r.category);
  for (const cat of categories) for (const r of report.checks.filter((x) => x.category === cat)) stream.check(r);
  stream.end(report);
  return out;
}

/** What follows the checks: policy findings and the status line. */
export function renderTableTail(report: CheckReport, c: ChalkInstance): string {
  const out: string[] = [];
  if (report.findings.length) {
    const title = 'policy findings';
    out.push(title, '-'.repeat(title.length));
    for (const f of report.findings) {
      const st = findingStatus(f);
      out.push(`${paint(c, st, f.severity === 'info' ? 'ℹ' : SYMBOLS[st])} ${c.bold(f.code)} ${findingLocation(f)}: ${f.message}`);
      const hint = ALL_CODES.find((x) => x.code === f.code)?.hint;
      if (hint) out.push(c.dim(`    hint: ${hint}`));
      out.push(c.dim(`    see docs/checks.md#${f.code.toLowerCase()}`));
    }
    out.push('');
  }
  const s = report.summary;
  const parts = [`${s.checks.passed} passed`];
  if (s.checks.warnings) parts.push(`${s.checks.warnings} warning${s.checks.warnings === 1 ? '' : 's'}`);
  if (s.checks.failed) parts.push(`${s.checks.failed} failed`);
  if (s.checks.skipped) parts.push(`${s.checks.skipped} skipped`);
  const f = s.findings;
  parts.push(`findings: ${f.error} error${f.error === 1 ? '' : 's'}, ${f.warning} warning${f.warning === 1 ? '' : 's'}, ${f.info} info`);
  if (s.suppressed) parts.push(`${s.suppressed} suppressed`);
  if (s.hidden) parts.push(`${s.hidden} below --output-threshold`);
  const verdict = report.ok ? paint(c, 'pass', SYMBOLS.pass) : paint(c, 'fail', SYMBOLS.fail);
  out.push(`Status check results are ${verdict} (${parts.join('; ')})`);
  return out.join('\n') + '\n';
}

import type { Finding } from '../../analyzers/types.js';
import type { CheckResult } from '../../checks/types.js';
import type { CheckReport } from '../../checks/report.js';
import { findingLocation } from './table.js';

/** Escape text for XML attributes and content (and drop characters XML 1.0 forbids). */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

interface Case {
  classname: string;
  name: string;
  time: number;
  failure?: { message: string; type: string; body: string };
  skipped?: string;
  out?: string;
}

function checkCase(r: CheckResult, failOn: CheckReport['failOn']): Case {
  const c: Case = { classname: `mesh.check.${r.category}`, name: `${r.id}: ${r.description}`, time: r.durationMs / 1000 };
  const body = [r.message, ...(r.details ?? []), r.hint ? `hint: ${r.hint}` : '', `see ${r.docs}`].filter(Boolean).join('\n');
  if (r.status === 'fail' || (r.status === 'warn' && failOn === 'warning')) c.failure = { message: r.message, type: r.status === 'fail' ? 'error' : 'warning', body };
  else if (r.status === 'skip') c.skipped = r.message;
  else if (r.status === 'warn') c.out = body;
  return c;
}

function findingCase(f: Finding, failOn: CheckReport['failOn']): Case {
  const c: Case = { classname: f.file ? f.file : 'mesh.check.policy', name: `${f.code} ${findingLocation(f)}`, time: 0 };
  const body = `${f.message}\nsee docs/checks.md#${f.code.toLowerCase()}`;
  if (f.severity === 'error' || (f.severity === 'warning' && failOn === 'warning')) c.failure = { message: f.message, type: f.severity, body };
  else c.out = body;
  return c;
}

function suite(name: string, cases: Case[]): string {
  const failures = cases.filter((c) => c.failure).length;
  const skipped = cases.filter((c) => c.skipped !== undefined).length;
  const time = cases.reduce((a, c) => a + c.time, 0);
  const lines = [`  <testsuite name="${xmlEscape(name)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time.toFixed(3)}">`];
  for (const c of cases) {
    const open = `    <testcase classname="${xmlEscape(c.classname)}" name="${xmlEscape(c.name)}" time="${c.time.toFixed(3)}"`;
    if (!c.failure && c.skipped === undefined && c.out === undefined) {
      lines.push(`${open}/>`);
      continue;
    }
    lines.push(`${open}>`);
    if (c.failure) lines.push(`      <failure message="${xmlEscape(c.failure.message)}" type="${xmlEscape(c.failure.type)}">${xmlEscape(c.failure.body)}</failure>`);
    if (c.skipped !== undefined) lines.push(`      <skipped message="${xmlEscape(c.skipped)}"/>`);
    if (c.out !== undefined) lines.push(`      <system-out>${xmlEscape(c.out)}</system-out>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>');
  return lines.join('\n');
}

/**
 * JUnit XML for CI test reports: one testsuite per check category plus `policy` for findings;
 * failures are failing checks and findings at or above --fail-on, so the report agrees with the
 * exit code; skipped checks are <skipped/>.
 */
export function renderJunit(report: CheckReport): string {
  const suites: { name: string; cases: Case[] }[] = [];
  for (const r of report.checks) {
    let s = suites.find((x) => x.name === r.category);
    if (!s) suites.push((s = { name: r.category, cases: [] }));
    s.cases.push(checkCase(r, report.failOn));
  }
  if (report.findings.length) suites.push({ name: 'policy findings', cases: report.findings.map((f) => findingCase(f, report.failOn)) });
  const all = suites.flatMap((s) => s.cases);
  const head = `<testsuites name="mesh check" tests="${all.length}" failures="${all.filter((c) => c.failure).length}" errors="0" skipped="${all.filter((c) => c.skipped !== undefined).length}" time="${all.reduce((a, c) => a + c.time, 0).toFixed(3)}">`;
  return ['<?xml version="1.0" encoding="UTF-8"?>', head, ...suites.map((s) => suite(s.name, s.cases)), '</testsuites>'].join('\n') + '\n';
}

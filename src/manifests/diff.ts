import { stringify } from 'yaml';
import type { KubeObject } from '../cluster/types.js';

/**
 * Pure diffs between renderings (and between a rendering and live objects): objects are matched
 * by apiVersion group, kind, namespace and name; each changed object gets a unified line diff of
 * its YAML.
 */

/** Identity of an object across renderings: group/kind/namespace/name (the version may change). */
export function objectKey(o: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  return `${group}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** One object's difference between two renderings. */
export interface ObjectDiff {
  /** Kind/namespace/name. */
  ref: string;
  change: 'added' | 'removed' | 'changed';
  /** Unified diff lines (without a trailing newline each). */
  lines: string[];
}

const ref = (o: KubeObject) => (o.metadata.namespace ? `${o.kind}/${o.metadata.namespace}/${o.metadata.name}` : `${o.kind}/${o.metadata.name}`);
const yamlLines = (o: KubeObject) => stringify(o, { lineWidth: 0 }).replace(/\n$/, '').split('\n');

/**
 * Differences from `before` to `after`, in `after`'s order then removed objects in `before`'s
 * order. Unchanged objects are omitted.
 */
export function diffObjects(before: readonly KubeObject[], after: readonly KubeObject[], context = 3): ObjectDiff[] {
  const old = new Map(before.map((o) => [objectKey(o), o]));
  const seen = new Set<string>();
  const out: ObjectDiff[] = [];
  for (const o of after) {
    const k = objectKey(o);
    seen.add(k);
    const prev = old.get(k);
    if (!prev) {
      out.push({ ref: ref(o), change: 'added', lines: yamlLines(o).map((l) => `+${l}`) });
      continue;
    }
    const lines = unifiedDiff(yamlLines(prev), yamlLines(o), context);
    if (lines.length) out.push({ ref: ref(o), change: 'changed', lines });
  }
  for (const o of before) {
    if (!seen.has(objectKey(o))) out.push({ ref: ref(o), change: 'removed', lines: yamlLines(o).map((l) => `-${l}`) });
  }
  return out;
}

/** Render diffs as text, git-style headers per object; `color` wraps added/removed lines. */
export function formatDiffs(diffs: readonly ObjectDiff[], color: { green(s: string): string; red(s: string): string; bold(s: string): string; cyan(s: string): string } = { green: (s) => s, red: (s) => s, bold: (s) => s, cyan: (s) => s }): string {
  const out: string[] = [];
  for (const d of diffs) {
    out.push(color.bold(`--- ${d.change === 'added' ? '/dev/null' : `a/${d.ref}`}`));
    out.push(color.bold(`+++ ${d.change === 'removed' ? '/dev/null' : `b/${d.ref}`}`));
    for (const l of d.lines) out.push(l.startsWith('+') ? color.green(l) : l.startsWith('-') ? color.red(l) : l.startsWith('@@') ? color.cyan(l) : l);
  }
  return out.length ? out.join('\n') + '\n' : '';
}

type Op = { t: ' ' | '-' | '+'; line: string; a: number; b: number };

/** Unified diff of two line arrays (LCS based; objects are small), with `context` lines around changes. */
export function unifiedDiff(a: readonly string[], b: readonly string[], context = 3): string[] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j] = LCS length of a[i:] and b[j:].
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push({ t: ' ', line: a[i]!, a: i++, b: j++ });
    // Deletions before additions, as diff(1) prints them.
    else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ t: '-', line: a[i]!, a: i++, b: j });
    else ops.push({ t: '+', line: b[j]!, a: i, b: j++ });
  }
  if (!ops.some((o) => o.t !== ' ')) return [];
  const out: string[] = [];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.t === ' ') {
      k++;
      continue;
    }
    // A hunk: from `context` lines before this change to `context` lines after the last change
    // that is within 2*context of the previous one.
    const start = Math.max(0, k - context);
    let end = k;
    let last = k;
    while (end < ops.length && end - last <= 2 * context) {
      if (ops[end]!.t !== ' ') last = end;
      end++;
    }
    const stop = Math.min(ops.length, last + context + 1);
    const hunk = ops.slice(start, stop);
    const aLen = hunk.filter((o) => o.t !== '+').length;
    const bLen = hunk.filter((o) => o.t !== '-').length;
    out.push(`@@ -${hunk[0]!.a + 1},${aLen} +${hunk[0]!.b + 1},${bLen} @@`);
    for (const o of hunk) out.push(`${o.t}${o.line}`);
    k = stop;
  }
  return out;
}

/**
 * The part of a live object that a rendering sets: for each field in `rendered`, the live value
 * (absent when the live object lacks it). Server-side defaults and status drop out, so a diff
 * shows only drift in what we manage.
 */
export function projectLive(live: unknown, rendered: unknown): unknown {
  if (Array.isArray(rendered)) {
    if (!Array.isArray(live)) return live;
    return live.map((x, i) => (i < rendered.length ? projectLive(x, rendered[i]) : x));
  }
  if (rendered !== null && typeof rendered === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) return live;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(rendered)) {
      const v = (live as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = projectLive(v, (rendered as Record<string, unknown>)[k]);
    }
    return out;
  }
  return live;
}

/** Diffs as data for -o json|yaml (manifest diff, upgrade --dry-run): stable field names, docs/cli.md. */
export interface DiffDocument {
  differ: boolean;
  summary: { added: number; changed: number; removed: number };
  objects: { ref: string; change: ObjectDiff['change']; diff: string }[];
}

/** The machine form of a list of diffs. Pure. */
export function diffDocument(diffs: readonly ObjectDiff[]): DiffDocument {
  const count = (c: ObjectDiff['change']) => diffs.filter((d) => d.change === c).length;
  return {
    differ: diffs.length > 0,
    summary: { added: count('added'), changed: count('changed'), removed: count('removed') },
    objects: diffs.map((d) => ({ ref: d.ref, change: d.change, diff: d.lines.join('\n') + '\n' })),
  };
}

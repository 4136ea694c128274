import { ANNOTATION_CHECK_SUPPRESS } from '../constants.js';
import { annotations } from './annotations.js';
import { authorization, authorizationEffect, authorizationIdentities } from './authz.js';
import { egressDestinations, externalServiceChecks } from './egress.js';
import { buildIndex, type AnalysisIndex, type IndexOptions } from './lookup.js';
import { meshedJobs } from './jobs.js';
import { serverFirstPorts } from './server-first.js';
import { objectNames } from './names.js';
import { trafficPolicy } from './policy.js';
import { routeConflicts, routeProgramming, routeReferences } from './routes.js';
import { gateways } from './gateways.js';
import { portProtocols, strictMtls, unselectedWorkloads } from './services.js';
import type { Analyzer, Finding, FindingSeverity, ResourceRef, SourcedObject } from './types.js';

export { ALL_CODES, CODES } from './codes.js';
export { buildIndex } from './lookup.js';
export type * from './types.js';

/** Every analyzer, run in this order. Adding an analyzer is adding it here (and its codes to codes.ts). */
export const ANALYZERS: readonly Analyzer<AnalysisIndex>[] = [routeReferences, routeConflicts, routeProgramming, authorization, authorizationIdentities, authorizationEffect, trafficPolicy, strictMtls, portProtocols, unselectedWorkloads, annotations, objectNames, externalServiceChecks, egressDestinations, meshedJobs, serverFirstPorts, gateways];

/** A `--suppress CODE=kind/ns/name` rule; each part may use `*` wildcards. */
export interface SuppressRule {
  code: string;
  kind: string;
  namespace: string;
  name: string;
}

const SEVERITY_RANK: Record<FindingSeverity, number> = { info: 0, warning: 1, error: 2 };

/** Whether `s` is at least as severe as `threshold`. */
export function atLeast(s: FindingSeverity, threshold: FindingSeverity): boolean {
  return SEVERITY_RANK[s] >= SEVERITY_RANK[threshold];
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
}

/**
 * Parse `CODE=kind/ns/name` (or `CODE=kind/name` for cluster-scoped objects). Returns an error
 * message instead of throwing, so option validation can name the flag.
 */
export function parseSuppressRule(text: string): SuppressRule | string {
  const eq = text.indexOf('=');
  if (eq <= 0) return `"${text}" is not CODE=kind/namespace/name`;
  const code = text.slice(0, eq).trim();
  if (!/^(MSH[\d*]{1,4}|\*)$/i.test(code)) return `"${code}" is not a finding code (MSHnnnn, wildcards allowed)`;
  const parts = text.slice(eq + 1).split('/');
  if (parts.length === 3 && parts.every((p) => p !== '')) return { code: code.toUpperCase(), kind: parts[0]!, namespace: parts[1]!, name: parts[2]! };
  if (parts.length === 2 && parts.every((p) => p !== '')) return { code: code.toUpperCase(), kind: parts[0]!, namespace: '', name: parts[1]! };
  return `"${text.slice(eq + 1)}" is not kind/namespace/name (use * for any part)`;
}

function ruleMatches(r: SuppressRule, f: Finding): boolean {
  return glob(r.code).test(f.code) && glob(r.kind).test(f.resource.kind) && glob(r.namespace).test(f.resource.namespace ?? '') && glob(r.name).test(f.resource.name);
}

function refKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

function suppressedByAnnotation(byRef: ReadonlyMap<string, SourcedObject>, ref: ResourceRef, code: string): boolean {
  const src = byRef.get(refKey(ref.kind, ref.namespace, ref.name));
  if (!src) return false;
  const spec = src.object.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined;
  const values = [src.object.metadata.annotations?.[ANNOTATION_CHECK_SUPPRESS], spec?.template?.metadata?.annotations?.[ANNOTATION_CHECK_SUPPRESS]];
  return values.some((v) => typeof v === 'string' && v.split(',').map((s) => s.trim().toUpperCase()).includes(code));
}

/** Result of {@link analyze}: findings kept and how many each suppression mechanism removed. */
export interface AnalysisResult {
  findings: Finding[];
  suppressed: number;
  objects: number;
}

/** Options of {@link analyze}. */
export interface AnalyzeOptions extends IndexOptions {
  suppress?: readonly SuppressRule[];
}

/** The sort key of a finding: file, line, code, resource, message. */
function findingKey(f: Finding): string {
  return `${f.file ?? '\uffff'}\u0000${String(f.line ?? 0).padStart(8, '0')}\u0000${f.code}\u0000${f.resource.kind}\u0000${f.resource.namespace ?? ''}\u0000${f.resource.name}\u0000${f.message}`;
}

/** Findings sorted by {@link findingKey}, each key built once (not once per comparison). */
function sortFindings(findings: Finding[]): Finding[] {
  const keyed = findings.map((f) => ({ f, k: findingKey(f) }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return keyed.map((x) => x.f);
}

/**
 * Run every analyzer over the objects, drop suppressed findings (flag rules and the
 * mesh.dev/check-suppress annotation) and sort the rest by file, line, code. Pure.
 */
export function analyze(objects: readonly SourcedObject[], opts: AnalyzeOptions = {}): AnalysisResult {
  const index = buildIndex(objects, opts);
  const all = ANALYZERS.flatMap((a) => a.analyze(index));
  const rules = opts.suppress ?? [];
  const byRef = new Map<string, SourcedObject>();
  for (const s of index.objects) byRef.set(refKey(s.object.kind, s.object.metadata.namespace, s.object.metadata.name), s);
  const findings = sortFindings(all.filter((f) => !rules.some((r) => ruleMatches(r, f)) && !suppressedByAnnotation(byRef, f.resource, f.code)));
  return { findings, suppressed: all.length - findings.length, objects: index.objects.length };
}

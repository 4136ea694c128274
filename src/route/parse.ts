import { usageError } from '../errors.js';
import { parseResourceRef } from '../cluster/resource-ref.js';
import { headerNameProblem, headerValueProblem, pathProblem } from '../model/routes.js';

// Flag parsers for `mesh route`. Pure; every error is a usage error (exit 2) naming the flag.
// Durations are read by src/duration.ts, like every other command's.

/**
 * A percentage flag: `1%`, `0.5%`, or a bare number meaning percent (`5` = 5%, never 500%).
 * Returns the percentage (0..100).
 */
export function parsePercentFlag(flag: string, value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(value);
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 100) {
    throw usageError(`${flag} "${value}" is not a percentage between 0 and 100`, 'for example 1% or 0.5%');
  }
  return n;
}

/** A traffic weight: an integer 0..100 (percent of the split). */
export function parseWeight(flag: string, value: string): number {
  if (!/^\s*\d+\s*$/.test(value)) throw usageError(`${flag} "${value}" is not a whole number`, 'weights are percentages 0..100, e.g. --weight 10');
  const n = Number(value);
  if (n > 100) throw usageError(`${flag} ${n} is more than 100`, 'weights are percentages of the traffic, 0..100');
  return n;
}

/**
 * `--steps 5,25,50,100`: strictly increasing canary weights 1..100. The last step need not be 100;
 * a rollout promotes (100%) after the last step's gates pass.
 */
export function parseSteps(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) throw usageError(`--steps "${value}" has an empty step`, 'list weights separated by commas: --steps 5,25,50,100');
  const steps = parts.map((p) => parseWeight('--steps', p));
  for (let i = 0; i < steps.length; i++) {
    if (steps[i]! < 1) throw usageError('--steps weights must be at least 1', 'a 0% step sends nothing to the canary, so its gates cannot be judged');
    if (i > 0 && steps[i]! <= steps[i - 1]!) throw usageError(`--steps must increase: ${steps[i - 1]} then ${steps[i]}`, 'for example --steps 5,25,50,100');
  }
  return steps;
}

/** `BACKEND=WEIGHT` arguments of `mesh route set`; weights must sum to 100 (percent). */
export function parseBackendWeights(args: readonly string[]): { backend: string; weight: number }[] {
  if (args.length === 0) throw usageError('mesh route set needs at least one BACKEND=WEIGHT', 'for example: mesh route set web web=90 web-v2=10');
  const out: { backend: string; weight: number }[] = [];
  for (const a of args) {
    const i = a.indexOf('=');
    if (i <= 0) throw usageError(`"${a}" is not BACKEND=WEIGHT`, 'for example web-v2=10');
    const backend = parseServiceName('BACKEND', a.slice(0, i));
    if (out.some((o) => o.backend === backend)) throw usageError(`backend ${backend} is listed twice`);
    out.push({ backend, weight: parseWeight(backend, a.slice(i + 1)) });
  }
  const sum = out.reduce((s, o) => s + o.weight, 0);
  if (sum !== 100) throw usageError(`weights add up to ${sum}, not 100`, 'weights are percentages of the traffic; backends not listed get 0');
  return out;
}

/**
 * `--match-header NAME=VALUE` (exact match; header names are case-insensitive, stored lower-case).
 * Checked against the rules of the official HTTPRoute CRD (and CR/LF, which would split the request).
 */
export function parseHeaderMatch(value: string): { name: string; value: string } {
  const i = value.indexOf('=');
  const name = i > 0 ? value.slice(0, i).trim().toLowerCase() : '';
  if (!name || headerNameProblem(name)) throw usageError(`--match-header "${value}" is not NAME=VALUE`, 'for example --match-header x-canary=true; NAME may only hold letters, digits and !#$%&\'*+-.^_`|~');
  const v = value.slice(i + 1);
  const problem = headerValueProblem(v);
  if (problem) throw usageError(`--match-header ${name}: the value ${problem}`, 'for example --match-header x-canary=true');
  return { name, value: v };
}

/** Every `--match-header`, each header named once (the CRD keys the list by name). */
export function parseHeaderMatches(values: readonly string[]): { name: string; value: string }[] {
  const out = values.map(parseHeaderMatch);
  const seen = new Set<string>();
  for (const h of out) {
    if (seen.has(h.name)) throw usageError(`--match-header ${h.name} is given twice`, 'a request header has one value to match; give each header once');
    seen.add(h.name);
  }
  return out;
}

/** `--match-path /api` (a path prefix) or `--match-path =/exact` (an exact path), as the HTTPRoute CRD accepts it. */
export function parsePathMatch(value: string): { type: 'PathPrefix' | 'Exact'; value: string } {
  const exact = value.startsWith('=');
  const path = exact ? value.slice(1) : value;
  const problem = pathProblem(path);
  if (problem) throw usageError(`--match-path "${value}": the path ${problem}`, 'for example --match-path /api (prefix) or --match-path =/login (exact)');
  return { type: exact ? 'Exact' : 'PathPrefix', value: path };
}

/** `--retry-on 5xx,reset,...`: the Envoy / gRPC retry conditions the control plane understands. */
export const RETRY_ON = ['5xx', 'gateway-error', 'reset', 'connect-failure', 'retriable-4xx', 'refused-stream', 'retriable-status-codes', 'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable'] as const;

/** Parse `--retry-on` against {@link RETRY_ON}. */
export function parseRetryOn(value: string): string[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw usageError('--retry-on is empty', `use some of: ${RETRY_ON.join(', ')}`);
  for (const c of list) if (!(RETRY_ON as readonly string[]).includes(c)) throw usageError(`--retry-on "${c}" is not a retry condition`, `use some of: ${RETRY_ON.join(', ')}`);
  return list;
}

/** An HTTP status for `--fault-abort`: 200..599. */
export function parseHttpStatus(flag: string, value: string): number {
  const n = /^\s*\d{3}\s*$/.test(value) ? Number(value) : NaN;
  if (!(n >= 200 && n <= 599)) throw usageError(`${flag} "${value}" is not an HTTP status`, 'for example --fault-abort 503');
  return n;
}

/** A Kubernetes Service name as a positional argument or flag value. */
export function parseServiceName(what: string, value: string): string {
  if (value.includes('/')) {
    // kubectl's TYPE/NAME, read by the one parser mesh stat uses: only a Service is routed.
    const ref = parseResourceRef(value, what);
    if (ref.kind !== 'svc' || !ref.name) throw usageError(`${what} "${value}" must name a Service`, 'use NAME or svc/NAME (HTTPRoutes route Services, not workloads)');
    return parseServiceName(what, ref.name);
  }
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(value) || value.length > 63) throw usageError(`${what} "${value}" is not a Service name`, 'Service names are lower-case DNS labels such as web or web-v2');
  return value;
}

import { parsePositiveDuration } from '../duration.js';
import { usageError } from '../errors.js';
import { parseSuppressRule, type SuppressRule } from '../analyzers/index.js';
import type { FindingSeverity } from '../analyzers/types.js';

/** Formats `mesh check -o` accepts. */
export const CHECK_OUTPUT_FORMATS = ['table', 'json', 'yaml', 'junit', 'sarif'] as const;
/** One of CHECK_OUTPUT_FORMATS. */
export type CheckOutputFormat = (typeof CHECK_OUTPUT_FORMATS)[number];

/** Flags of `mesh check` as commander hands them over (strings, unvalidated). */
export interface RawCheckOptions {
  pre?: boolean;
  filename?: string[];
  recursive?: boolean;
  suppress?: string[];
  outputThreshold?: string;
  output: CheckOutputFormat;
  wait?: string;
  failOn?: string;
  timeout?: string;
  meshNamespace?: string;
  /** --dns-probe: run the in-cluster DNS lookup pod. */
  dnsProbe?: boolean;
  kubeconfig?: string;
  context?: string;
}

/** Validated options of a `mesh check` run. */
export interface CheckOptions {
  mode: 'pre' | 'post' | 'files';
  filenames: string[];
  recursive: boolean;
  suppress: SuppressRule[];
  outputThreshold: FindingSeverity;
  output: CheckOutputFormat;
  /** Retry until healthy for this long (ms); 0 = run once. */
  waitMs: number;
  failOn: 'warning' | 'error';
  /** Per-check timeout (ms). */
  timeoutMs: number;
  meshNamespace?: string;
  /** Run the DNS lookup pod (--dns-probe); read-only otherwise. */
  dnsProbe: boolean;
  kubeconfig?: string;
  context?: string;
}

/**
 * Validate `mesh check` flags in one place (table-tested). Throws usageError (exit 2) naming the
 * flag and what it accepts.
 */
export function validateCheckOptions(raw: RawCheckOptions): CheckOptions {
  const filenames = raw.filename ?? [];
  if (raw.pre && filenames.length) throw usageError('--pre and -f cannot be combined', '--pre checks a cluster before install; -f analyzes manifests without a cluster');
  if (raw.recursive && filenames.length === 0) throw usageError('-R needs -f', 'pass the directory to analyze: mesh check -f DIR -R');
  if (raw.dnsProbe && filenames.length) throw usageError('--dns-probe cannot be used with -f', 'the DNS probe runs a pod in a cluster; -f analyzes manifests without one');
  if (raw.wait !== undefined && filenames.length) throw usageError('--wait cannot be used with -f', 'files do not change while they are analyzed; --wait retries live checks');
  const suppress: SuppressRule[] = [];
  for (const s of raw.suppress ?? []) {
    const r = parseSuppressRule(s);
    if (typeof r === 'string') throw usageError(`--suppress ${r}`, 'use CODE=kind/namespace/name, e.g. --suppress "MSH0010=Service/shop/*"');
    suppress.push(r);
  }
  const threshold = (raw.outputThreshold ?? 'info').toLowerCase();
  if (threshold !== 'info' && threshold !== 'warning' && threshold !== 'error') throw usageError(`--output-threshold "${raw.outputThreshold}" is not a severity`, 'use one of: info, warning, error');
  const failOn = (raw.failOn ?? 'error').toLowerCase();
  if (failOn !== 'warning' && failOn !== 'error') throw usageError(`--fail-on "${raw.failOn}" is not a severity`, 'use one of: warning, error');
  const waitMs = raw.wait !== undefined ? parsePositiveDuration(raw.wait, '--wait') : 0;
  const timeoutMs = raw.timeout !== undefined ? parsePositiveDuration(raw.timeout, '--timeout') : 20_000;
  const opts: CheckOptions = {
    mode: filenames.length ? 'files' : raw.pre ? 'pre' : 'post',
    filenames,
    recursive: raw.recursive === true,
    suppress,
    outputThreshold: threshold,
    output: raw.output,
    waitMs,
    failOn,
    timeoutMs,
    dnsProbe: raw.dnsProbe === true,
  };
  if (raw.meshNamespace) opts.meshNamespace = raw.meshNamespace;
  if (raw.kubeconfig) opts.kubeconfig = raw.kubeconfig;
  if (raw.context) opts.context = raw.context;
  return opts;
}

import { usageError } from '../errors.js';
import type { FaultSpec, RetrySpec } from './httproute.js';
import { parseDuration, parsePositiveDuration } from '../duration.js';
import {
  parseHeaderMatches,
  parseHttpStatus,
  parsePathMatch,
  parsePercentFlag,
  parseRetryOn,
  parseServiceName,
  parseSteps,
  parseWeight,
} from './parse.js';
import type { Gates } from './rollout.js';

/** `mesh route canary` flags as commander hands them over (strings, unvalidated). */
export interface RawCanaryFlags {
  canary?: string;
  stable?: string;
  weight?: string;
  port?: string;
  steps?: string;
  interval?: string;
  maxErrorRate?: string;
  maxP99?: string;
  matchHeader?: string[];
  matchPath?: string;
  timeout?: string;
  retries?: string;
  perTryTimeout?: string;
  retryOn?: string;
  faultDelay?: string;
  faultDelayPercent?: string;
  faultAbort?: string;
  faultAbortPercent?: string;
  mirror?: string;
  prometheusUrl?: string;
  dryRun?: boolean;
}

/** Validated `mesh route canary` options. */
export interface CanaryOptions {
  service: string;
  canary: string;
  stable?: string;
  /** Manual split (percent to the canary); undefined with `steps`. */
  weight?: number;
  /** Parent Service port, needed when the Service has several. */
  port?: number;
  /** Progressive rollout step weights. */
  steps?: number[];
  /** Wait between steps (default 1m). */
  intervalMs: number;
  gates: Gates;
  matchHeaders: { name: string; value: string }[];
  matchPath?: { type: 'PathPrefix' | 'Exact'; value: string };
  timeoutMs?: number;
  retry?: RetrySpec;
  fault?: FaultSpec;
  mirror?: string;
  prometheusUrl?: string;
  dryRun: boolean;
}

/** Default `--interval` between progressive steps. */
export const DEFAULT_INTERVAL_MS = 60_000;

/**
 * Validate `mesh route canary` flags in one place (exit 2 with the flag named). Rules: --canary is
 * required; --weight and --steps exclude each other (one of them is required); gates need --steps;
 * per-try timeout and retry-on need --retries; a fault percentage needs its fault.
 */
export function validateCanaryOptions(service: string, f: RawCanaryFlags): CanaryOptions {
  const svc = parseServiceName('SERVICE', service);
  if (!f.canary) throw usageError('--canary is required', `name the new version's Service: mesh route canary ${svc} --canary ${svc}-v2 --weight 10`);
  const canary = parseServiceName('--canary', f.canary);
  const stable = f.stable !== undefined ? parseServiceName('--stable', f.stable) : undefined;
  if (canary === (stable ?? svc)) throw usageError(`--canary ${canary} is the stable backend too`, 'the canary must be a different Service from the stable one');
  if (f.weight !== undefined && f.steps !== undefined) throw usageError('--weight and --steps cannot be used together', 'use --weight for a fixed split, --steps for a progressive rollout');
  if (f.weight === undefined && f.steps === undefined) throw usageError('give --weight PERCENT or --steps LIST', `e.g. --weight 10, or --steps 5,25,50,100 --interval 1m --max-error-rate 1%`);
  const weight = f.weight !== undefined ? parseWeight('--weight', f.weight) : undefined;
  const steps = f.steps !== undefined ? parseSteps(f.steps) : undefined;
  if (!steps) {
    for (const [flag, v] of [['--interval', f.interval], ['--max-error-rate', f.maxErrorRate], ['--max-p99', f.maxP99]] as const) {
      if (v !== undefined) throw usageError(`${flag} needs --steps`, 'gates and intervals belong to a progressive rollout: add --steps 5,25,50,100');
    }
  }
  const intervalMs = f.interval !== undefined ? parsePositiveDuration(f.interval, '--interval') : DEFAULT_INTERVAL_MS;
  const gates: Gates = {};
  if (f.maxErrorRate !== undefined) gates.maxErrorRatePercent = parsePercentFlag('--max-error-rate', f.maxErrorRate);
  if (f.maxP99 !== undefined) gates.maxP99Ms = parseDuration(f.maxP99, '--max-p99');
  let port: number | undefined;
  if (f.port !== undefined) {
    port = /^\d+$/.test(f.port) ? Number(f.port) : NaN;
    if (!(port >= 1 && port <= 65535)) throw usageError(`--port "${f.port}" is not a port number`);
  }
  const opts: CanaryOptions = {
    service: svc,
    canary,
    intervalMs,
    gates,
    matchHeaders: parseHeaderMatches(f.matchHeader ?? []),
    dryRun: f.dryRun === true,
  };
  if (stable !== undefined) opts.stable = stable;
  if (weight !== undefined) opts.weight = weight;
  if (steps) opts.steps = steps;
  if (port !== undefined) opts.port = port;
  if (f.matchPath !== undefined) opts.matchPath = parsePathMatch(f.matchPath);
  if (f.timeout !== undefined) opts.timeoutMs = parseDuration(f.timeout, '--timeout');
  if (f.retries !== undefined) {
    if (!/^\d+$/.test(f.retries) || Number(f.retries) > 10) throw usageError(`--retries "${f.retries}" is not a number of retries 0..10`);
    const retry: RetrySpec = { attempts: Number(f.retries) };
    if (f.perTryTimeout !== undefined) retry.perTryTimeoutMs = parseDuration(f.perTryTimeout, '--per-try-timeout');
    if (f.retryOn !== undefined) retry.retryOn = parseRetryOn(f.retryOn);
    opts.retry = retry;
  } else if (f.perTryTimeout !== undefined || f.retryOn !== undefined) {
    throw usageError(`${f.perTryTimeout !== undefined ? '--per-try-timeout' : '--retry-on'} needs --retries N`, 'e.g. --retries 2 --per-try-timeout 500ms --retry-on 5xx,reset');
  }
  const fault: FaultSpec = {};
  if (f.faultDelay !== undefined) fault.delay = { fixedDelayMs: parseDuration(f.faultDelay, '--fault-delay'), percent: f.faultDelayPercent !== undefined ? parsePercentFlag('--fault-delay-percent', f.faultDelayPercent) : 100 };
  else if (f.faultDelayPercent !== undefined) throw usageError('--fault-delay-percent needs --fault-delay DURATION', 'e.g. --fault-delay 100ms --fault-delay-percent 10');
  if (f.faultAbort !== undefined) fault.abort = { httpStatus: parseHttpStatus('--fault-abort', f.faultAbort), percent: f.faultAbortPercent !== undefined ? parsePercentFlag('--fault-abort-percent', f.faultAbortPercent) : 100 };
  else if (f.faultAbortPercent !== undefined) throw usageError('--fault-abort-percent needs --fault-abort STATUS', 'e.g. --fault-abort 503 --fault-abort-percent 5');
  if (fault.delay || fault.abort) opts.fault = fault;
  if (f.mirror !== undefined) {
    opts.mirror = parseServiceName('--mirror', f.mirror);
    if (opts.mirror === canary || opts.mirror === (stable ?? svc)) throw usageError(`--mirror ${opts.mirror} already receives traffic from this route`, 'mirror to a separate Service, e.g. a shadow deployment');
  }
  if (f.prometheusUrl !== undefined) opts.prometheusUrl = f.prometheusUrl;
  return opts;
}

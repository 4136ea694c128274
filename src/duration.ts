import { usageError, type MeshError } from './errors.js';

// The one duration grammar of mesh: every flag (--wait, --timeout, --interval, --window, ...) and
// every annotation or values key that holds a time reads it here, so they all accept and reject
// the same strings. Go / kubectl style: one or more number+unit parts, units h, m, s, ms, numbers
// may have a fraction (1.5s). A bare number is refused because its unit is a guess (`--wait 5`
// meant seconds to one command and milliseconds to another); only "0" needs none, as in Go.

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
const PART = /(\d+\.?\d*|\.\d+)(ms|h|m|s)/gy;
const BARE_NUMBER = /^\+?(\d+\.?\d*|\.\d+)$/;

/** What the grammar accepts, for hints. */
export const DURATION_EXAMPLES = '500ms, 30s, 5m, 1h30m or 1.5s';

/**
 * Read a duration such as `500ms`, `30s`, `5m`, `1h30m` or `1.5s` (surrounding spaces ignored) as
 * whole milliseconds (rounded: mesh's resolution is one millisecond). `what` names the value in the
 * error, e.g. `--wait` or `annotation mesh.dev/retry perTryTimeout`. Throws a usage MeshError
 * (exit 2) for anything else; for a bare number the message says which unit to add
 * (`--wait 5: add a unit, e.g. 5s or 5m`). Never throws anything but a MeshError.
 */
export function parseDuration(text: string, what = 'duration'): number {
  const problem = durationProblem(text);
  if (typeof problem === 'string') throw usageError(`${what} ${problem}`, `durations are a number and a unit (h, m, s, ms), e.g. ${DURATION_EXAMPLES}`);
  return problem.ms;
}

/** {@link parseDuration} for a time budget or interval, where zero makes no sense (exit 2 on `0s`). */
export function parsePositiveDuration(text: string, what = 'duration'): number {
  const ms = parseDuration(text, what);
  if (ms <= 0) throw usageError(`${what} must be longer than zero (got "${text.trim()}")`, `e.g. ${DURATION_EXAMPLES}`);
  return ms;
}

/**
 * Like {@link parseDuration} for code that must not throw (the model, which turns a bad
 * annotation into a warning): the milliseconds, or the MeshError parseDuration would throw.
 */
export function tryParseDuration(text: string, what = 'duration'): number | MeshError {
  try {
    return parseDuration(text, what);
  } catch (err) {
    return err as MeshError;
  }
}

/**
 * A duration read from JSON or YAML data (annotations, HTTPRoutes): undefined when absent, the
 * milliseconds, or the MeshError naming `what`. A number is refused like a bare number on a flag:
 * it must be a string with a unit.
 */
export function durationValue(v: unknown, what: string): number | MeshError | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return tryParseDuration(v, what);
  return usageError(`${what} ${JSON.stringify(v)} is not a duration string: add a unit, e.g. "${String(v)}ms" or "${String(v)}s"`, `durations are a number and a unit (h, m, s, ms), e.g. ${DURATION_EXAMPLES}`);
}

function durationProblem(raw: string): { ms: number } | string {
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (text === '') return 'is empty: give a duration such as 30s';
  if (text === '0') return { ms: 0 };
  if (text.startsWith('-')) return `"${text}" is negative: a duration is zero or more`;
  if (BARE_NUMBER.test(text)) return `${text}: add a unit, e.g. ${text.replace(/^\+/, '')}s or ${text.replace(/^\+/, '')}m`;
  let total = 0;
  let consumed = 0;
  PART.lastIndex = 0;
  for (let m = PART.exec(text); m; m = PART.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    consumed = PART.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length) return `"${text}" is not a duration`;
  const ms = Math.round(total);
  if (!Number.isSafeInteger(ms)) return `"${text}" is too long`;
  return { ms };
}

/**
 * Gateway API Duration (GEP-2257): 1 to 4 parts of up to 5 digits with unit h, m, s or ms, no
 * fractions, e.g. `1h30m`, `500ms`. HTTPRoute `timeouts` must use it (other implementations read
 * the same objects), so it is parsed by {@link parseDuration} after this stricter pattern.
 */
export const GATEWAY_DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;

/**
 * Read a Gateway API Duration (see {@link GATEWAY_DURATION}) as milliseconds. Throws a usage
 * MeshError naming `what` when the value is not a duration or not in the Gateway API subset.
 */
export function parseGatewayDuration(text: string, what = 'duration'): number {
  const ms = parseDuration(text, what);
  if (!GATEWAY_DURATION.test(text.trim())) {
    throw usageError(`${what} "${text.trim()}" is not a Gateway API duration`, 'HTTPRoute timeouts take 1 to 4 whole-number parts with unit h, m, s or ms, e.g. 1h30m, 10s, 500ms (GEP-2257)');
  }
  return ms;
}

/**
 * Write milliseconds the way users write them and {@link parseDuration} reads them back exactly:
 * `0s`, `300ms`, `2s`, `1m30s`, `1h`, `1s500ms`. Whole milliseconds only (fractions are rounded);
 * the output is also a valid Gateway API duration for anything under 100000 hours.
 */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.round(ms));
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1_000], ['ms', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

/**
 * A Go / Gateway API duration (`1h`, `30s`, `500ms`, `1m30s`, `1.5s`) in milliseconds, unrounded;
 * undefined unless the whole string is one or more number+unit parts. No bare numbers, no
 * whitespace: callers that accept those handle them first.
 */
export function parseGoDuration(v: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(v); m; m = re.exec(v)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    consumed = re.lastIndex;
  }
  return consumed > 0 && consumed === v.length ? total : undefined;
}

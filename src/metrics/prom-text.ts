/**
 * A Prometheus text-format reader that accepts and rejects exactly what parse-prometheus-text-format
 * 1.1 did (the library mesh used before; test/stat/prom-text.test.ts compares the two line for line),
 * with none of its per-character string building: `mesh stat` reads two scrapes of every pod, and
 * the library spent about 4 ms per sidecar-sized page, most of `mesh stat`'s time (docs/bench.md).
 * Histogram and summary TYPE lines are read as untyped, so every `_bucket`/`_sum`/`_count` series
 * keeps its own labels (also for an indented TYPE line, which the old code's demotion missed and
 * the library then merged: the one input where the two differ).
 */

/**
 * One sample line as the text has it: its family's name, its labels and its value text (none for a
 * line without a metric name, which the library kept as a sample with no value).
 */
export interface RawSample {
  family: string;
  labels: Record<string, string> | undefined;
  value: string | undefined;
}

/** A line the format does not allow; the message is the library's. */
export class InvalidLineError extends Error {
  constructor(line: string) {
    super(`Encountered invalid line: ${line}`);
  }
}

const SPACE = 32;
const TAB = 9;
const isBlank = (c: number) => c === SPACE || c === TAB;

const WS = /\s/;
/** Whether `c` is a character `\s` matches (what the keep filter splits names on). */
const isSpace = (c: number) => c === SPACE || (c >= 9 && c <= 13) || (c > 127 && WS.test(String.fromCharCode(c)));

/**
 * The name the line text[start, end) describes for the keep filter: a sample's metric, or a
 * TYPE/HELP line's subject; undefined for a blank line or another comment. Reads the text in place
 * so a line that is dropped is never copied.
 */
function filterName(text: string, start: number, end: number): string | undefined {
  let i = start;
  while (i < end && isSpace(text.charCodeAt(i))) i++;
  if (i === end) return undefined;
  if (text.charCodeAt(i) === 35 /* # */) return /^#\s*(?:TYPE|HELP)\s+(\S+)/.exec(text.slice(i, end))?.[1];
  let j = i;
  while (j < end) {
    const c = text.charCodeAt(j);
    if (c === 123 /* { */ || isSpace(c)) break;
    j++;
  }
  return text.slice(i, j);
}

/** Metric name of a `# HELP`/`# TYPE` line (null for a plain comment); throws on a malformed one. */
function metadataName(line: string): string | null {
  const isHelp = line.startsWith('HELP ', 2);
  if (!isHelp && !line.startsWith('TYPE ', 2)) return null;
  const data = line.slice(7);
  const space = data.indexOf(' ');
  if (space < 0) throw new InvalidLineError(line);
  if (!isHelp && data.includes(' ', space + 1)) throw new InvalidLineError(line);
  return data.slice(0, space);
}

/** `name{label="value",...} value [timestamp]`, with the library's leniencies and escapes. */
function sampleLine(line: string): { name: string; labels: Record<string, string> | undefined; value: string } {
  const n = line.length;
  let i = 0;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 123 /* { */ || isBlank(c)) break;
    i++;
  }
  const name = line.slice(0, i);
  let labels: Record<string, string> | undefined;
  if (i < n && line.charCodeAt(i) !== 123) {
    while (i < n && isBlank(line.charCodeAt(i))) i++;
    if (i < n && line.charCodeAt(i) !== 123) return { name, labels, value: valueAt(line, i) };
  }
  if (i >= n) return { name, labels, value: '' };
  i++; // past '{'
  while (i < n && isBlank(line.charCodeAt(i))) i++;
  if (i < n && line.charCodeAt(i) === 125 /* } */) return { name, labels, value: afterLabels(line, i + 1) };
  let labelStart = i;
  i = Math.min(i + 1, n); // the first character always belongs to the label name
  for (;;) {
    // Label name: up to '=', '}' or a blank.
    while (i < n) {
      const c = line.charCodeAt(i);
      if (c === 61 /* = */ || c === 125 || isBlank(c)) break;
      i++;
    }
    if (i >= n) return { name, labels, value: '' };
    const labelName = line.slice(labelStart, i);
    let c = line.charCodeAt(i);
    if (c === 125) return { name, labels, value: afterLabels(line, i + 1) };
    if (isBlank(c)) {
      while (i < n && isBlank(line.charCodeAt(i))) i++;
      if (i >= n) return { name, labels, value: '' };
      if (line.charCodeAt(i) !== 61) throw new InvalidLineError(line);
    }
    i++; // past '='
    while (i < n && isBlank(line.charCodeAt(i))) i++;
    if (i >= n) return { name, labels, value: '' };
    if (line.charCodeAt(i) !== 34 /* " */) throw new InvalidLineError(line);
    i++;
    // Label value: up to an unescaped '"'; \\, \n and \" are escapes, any other \x stays as is.
    let value = '';
    let run = i;
    let closed = false;
    while (i < n) {
      c = line.charCodeAt(i);
      if (c === 34) {
        closed = true;
        break;
      }
      if (c === 92 /* \ */) {
        value += line.slice(run, i);
        if (i + 1 >= n) {
          run = n;
          i = n;
          break;
        }
        const e = line[i + 1]!;
        value += e === '\\' ? '\\' : e === 'n' ? '\n' : e === '"' ? '"' : `\\${e}`;
        i += 2;
        run = i;
        continue;
      }
      i++;
    }
    if (!closed) return { name, labels, value: '' };
    value += line.slice(run, i);
    (labels ??= {})[labelName] = value;
    i++; // past '"'
    // Next label: ',' (straight into a name, no blank allowed) or '}'.
    while (i < n && isBlank(line.charCodeAt(i))) i++;
    if (i >= n) return { name, labels, value: '' };
    c = line.charCodeAt(i);
    if (c === 125) return { name, labels, value: afterLabels(line, i + 1) };
    if (c !== 44 /* , */) throw new InvalidLineError(line);
    i++;
    labelStart = i;
  }
}

/** The value after '}': blanks skipped, then up to the next blank. */
function afterLabels(line: string, i: number): string {
  while (i < line.length && isBlank(line.charCodeAt(i))) i++;
  return valueAt(line, i);
}

function valueAt(line: string, i: number): string {
  let j = i;
  while (j < line.length && !isBlank(line.charCodeAt(j))) j++;
  return line.slice(i, j);
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && a[k] === b[k]);
}

/**
 * Every sample of `text`, in order, each with the name of the family it belongs to (a family starts
 * at each new metric name or HELP/TYPE subject); a repeated sample with the same labels right after
 * another replaces it. Lines whose name fails `keep` are skipped before anything else.
 */
export function readPrometheusText(text: string, keep?: (name: string) => boolean): RawSample[] {
  const out: RawSample[] = [];
  let family: string | null = null;
  /** Samples of the current family (only written out when the family has a name). */
  let current: RawSample[] = [];
  const flush = () => {
    if (family) for (const s of current) out.push(s);
    current = [];
  };
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const lineStart = start;
    start = end + 1;
    if (keep) {
      const name = filterName(text, lineStart, end);
      if (name === undefined || !keep(name)) continue;
    }
    const line = text.slice(lineStart, end).trim();
    if (line === '') continue;
    let lineMetric: string | null;
    let sample: ReturnType<typeof sampleLine> | undefined;
    // Only "# " starts a comment: "#x" is read as a sample (whose name then fails validation).
    if (line.startsWith('# ')) {
      lineMetric = metadataName(line);
    } else {
      sample = sampleLine(line);
      lineMetric = sample.name;
    }
    if (lineMetric && lineMetric !== family) {
      flush();
      family = lineMetric;
    }
    if (!sample) continue;
    // A line without a name joins the current family but brings no value.
    const value = sample.name === family ? sample.value : undefined;
    const last = current[current.length - 1];
    if (last && sameLabels(sample.labels, last.labels)) {
      if (value !== undefined) last.value = value;
    } else current.push({ family: family ?? '', labels: sample.labels, value });
  }
  flush();
  return out;
}

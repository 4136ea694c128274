import { ENVOY, isEnvoyMetricWanted, readProxy, ReadingBuilder, wantedEnvoyMetric, type ProxyReading, type ReadLabels } from './envoy.js';
import { parseNumber, parsePrometheusText } from './prometheus.js';

/**
 * One proxy's reading from its `/stats/prometheus` text, without building a Sample per line:
 * `mesh stat` reads two pages of every pod, and at 2,000 pods the parse, the Sample objects and
 * the garbage they leave were most of its CPU (docs/bench.md, "mesh stat"). Lines are read in
 * place and fed to the same ReadingBuilder readProxy uses. The fast path takes only what Envoy
 * prints (`# TYPE name type`, `name{k="v",...} value`, names mesh does not read skipped unread);
 * on a page with a backslash, or at the first line it is not sure to read exactly as
 * parsePrometheusText would (blanks,
 * HELP lines, timestamps, a sample that would merge with the one before it, anything malformed)
 * it gives up and the whole page goes the general way, so both give the same reading or the same
 * error (test/stat/envoy-text.test.ts compares them on generated and mutated pages).
 */
export function readEnvoyText(text: string, source: string): ProxyReading {
  return fastEnvoyReading(text) ?? readProxy(parsePrometheusText(text, source, isEnvoyMetricWanted));
}

const MAX_LABELS = 16;
/** The subject of a comment line, as the general reader's keep filter finds it. */
const META = /^#\s*(?:TYPE|HELP)\s+(\S+)/;
const TYPE_LINE = /^# TYPE \S+ \S+$/;

const isNameStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58;
const isNameChar = (c: number) => isNameStart(c) || (c >= 48 && c <= 57);
const isLabelStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isLabelChar = (c: number) => isLabelStart(c) || (c >= 48 && c <= 57);

/** Label spans of one line: key and value [start, end) offsets into the text. */
class Spans {
  readonly at = new Int32Array(MAX_LABELS * 4);
  count = 0;
}

/**
 * Whether two lines' label sets are equal (as the general reader's sameLabels compares them).
 * Short values first: consecutive lines of a family usually differ in a short one (`le`, the
 * response code class) and share a long one (the cluster name).
 */
function sameSets(text: string, a: Spans, b: Spans): boolean {
  if (a.count !== b.count) return false;
  return allFound(text, a, b, true) && allFound(text, a, b, false);
}

/** Whether every label of `a` whose value is short (or long) is in `b`. */
function allFound(text: string, a: Spans, b: Spans, short: boolean): boolean {
  for (let i = 0; i < a.count; i++) {
    if (a.at[i * 4 + 3]! - a.at[i * 4 + 2]! <= 8 !== short) continue;
    let found = false;
    for (let j = 0; j < b.count && !found; j++) found = same(text, a.at, i, b.at, j, 2) && same(text, a.at, i, b.at, j, 0);
    if (!found) return false;
  }
  return true;
}

/** Whether span `k` (0: key, 2: value) of label i in `x` equals the same span of label j in `y`. */
function same(text: string, x: Int32Array, i: number, y: Int32Array, j: number, k: number): boolean {
  const s1 = x[i * 4 + k]!;
  const e1 = x[i * 4 + k + 1]!;
  const s2 = y[j * 4 + k]!;
  if (e1 - s1 !== y[j * 4 + k + 1]! - s2) return false;
  for (let n = 0; n < e1 - s1; n++) if (text.charCodeAt(s1 + n) !== text.charCodeAt(s2 + n)) return false;
  return true;
}

/** The fast path alone: the reading, or undefined when a line needs the general reader (exported for its test). */
export function fastEnvoyReading(text: string): ProxyReading | undefined {
  const b = new ReadingBuilder();
  const labels: ReadLabels = { prefix: undefined, cluster: undefined, codeClass: undefined, address: undefined, le: undefined };
  let cur = new Spans();
  let prev = new Spans();
  let prevName: string | undefined;
  /** The name text of the last sample line, and the wanted name it is (undefined: not wanted). */
  let lastName: string | undefined;
  let lastWanted: string | undefined;
  /** The `le` values of the histogram read last, by bucket, and where the current line is in them. */
  const les: string[] = [];
  let leAt = 0;
  /** Label values repeat line after line (a cluster's 22 histogram lines): reuse the last string. */
  let lastCluster = '';
  let lastPrefix = '';
  let lastAddress = '';
  const reuse = (v: string, start: number, stop: number): string => (v.length === stop - start && text.startsWith(v, start) ? v : text.slice(start, stop));
  // Escapes in label values are left to the general reader.
  if (text.includes('\\')) return undefined;
  const n = text.length;
  let pos = 0;
  while (pos < n) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = n;
    const lineStart = pos;
    pos = end + 1;
    if (end === lineStart) continue;
    const first = text.charCodeAt(lineStart);
    if (first === 35 /* # */) {
      const line = text.slice(lineStart, end);
      const m = META.exec(line);
      if (!m || !isEnvoyMetricWanted(m[1]!)) continue;
      // A TYPE line of a wanted family: only the plain form (the general reader validates it).
      if (!TYPE_LINE.test(line) || line.slice(7, 7 + m[1]!.length + 1) !== `${m[1]} `) return undefined;
      continue;
    }
    if (!isNameStart(first)) return undefined;
    let i: number;
    let name: string | undefined;
    // Samples come in families: most lines repeat the name of the line before.
    if (lastName !== undefined && text.startsWith(lastName, lineStart) && !isNameChar(text.charCodeAt(lineStart + lastName.length))) {
      i = lineStart + lastName.length;
      name = lastWanted;
    } else {
      i = lineStart + 1;
      while (i < end && isNameChar(text.charCodeAt(i))) i++;
      lastName = text.slice(lineStart, i);
      name = lastWanted = wantedEnvoyMetric(lastName);
    }
    const stop = i < end ? text.charCodeAt(i) : -1;
    if (stop !== 123 /* { */ && stop !== 32 /* space */) return undefined;
    if (name === undefined) continue;
    labels.prefix = labels.cluster = labels.codeClass = labels.address = labels.le = undefined;
    cur.count = 0;
    if (stop === 123) {
      i++;
      if (text.charCodeAt(i) === 125 /* } */) i++;
      else {
        for (;;) {
          const keyStart = i;
          if (i >= end || !isLabelStart(text.charCodeAt(i))) return undefined;
          i++;
          while (i < end && isLabelChar(text.charCodeAt(i))) i++;
          const keyEnd = i;
          if (text.charCodeAt(i) !== 61 /* = */ || text.charCodeAt(i + 1) !== 34 /* " */) return undefined;
          const valueStart = i + 2;
          // The value ends at the next quote (the page has no backslash, so no escapes).
          i = text.indexOf('"', valueStart);
          if (i < 0 || i >= end || cur.count === MAX_LABELS) return undefined;
          const at = cur.count++ * 4;
          cur.at[at] = keyStart;
          cur.at[at + 1] = keyEnd;
          cur.at[at + 2] = valueStart;
          cur.at[at + 3] = i;
          // The labels a reading looks at; a repeated key keeps its last value, as the general reader does.
          const keyLen = keyEnd - keyStart;
          if (keyLen === 2 && text.startsWith('le', keyStart)) {
            // Bucket bounds repeat histogram after histogram: reuse the string of the same bucket.
            const len = i - valueStart;
            const guess = les[leAt];
            if (guess !== undefined && guess.length === len && text.startsWith(guess, valueStart)) labels.le = guess;
            else if (les[0] !== undefined && les[0].length === len && text.startsWith(les[0], valueStart)) labels.le = les[(leAt = 0)];
            else labels.le = les[leAt] = text.slice(valueStart, i);
            leAt++;
          }
          else if (keyLen === ENVOY.clusterName.length && text.startsWith(ENVOY.clusterName, keyStart)) labels.cluster = lastCluster = reuse(lastCluster, valueStart, i);
          else if (keyLen === ENVOY.hcmPrefix.length && text.startsWith(ENVOY.hcmPrefix, keyStart)) labels.prefix = lastPrefix = reuse(lastPrefix, valueStart, i);
          else if (keyLen === ENVOY.codeClass.length && text.startsWith(ENVOY.codeClass, keyStart)) labels.codeClass = text.slice(valueStart, i);
          else if (keyLen === ENVOY.listenerAddress.length && text.startsWith(ENVOY.listenerAddress, keyStart)) labels.address = lastAddress = reuse(lastAddress, valueStart, i);
          i++; // past '"'
          const c = text.charCodeAt(i);
          if (c === 125) {
            i++;
            break;
          }
          if (c !== 44 /* , */) return undefined;
          i++;
        }
      }
      if (text.charCodeAt(i) !== 32) return undefined;
    }
    // One space, then the value up to the end of the line (no timestamp, no trailing blank).
    i++;
    if (i >= end) return undefined;
    // Counters are whole numbers: read the digits in place (what Number() gives for them).
    let value = 0;
    let j = i;
    if (end - i < 16) {
      for (; j < end; j++) {
        const c = text.charCodeAt(j) - 48;
        if (c < 0 || c > 9) break;
        value = value * 10 + c;
      }
    }
    if (j < end) {
      for (let k = i; k < end; k++) if (text.charCodeAt(k) <= 32) return undefined;
      const raw = text.slice(i, end);
      value = parseNumber(raw);
      if (Number.isNaN(value) && raw !== 'NaN') return undefined;
    }
    // The general reader merges a sample into the one before it when both have the same labels.
    if (name === prevName && sameSets(text, cur, prev)) return undefined;
    prevName = name;
    const swap = prev;
    prev = cur;
    cur = swap;
    b.add(name, labels, value);
  }
  return b.finish();
}

// Label and field selectors with the syntax of k8s.io/apimachinery/pkg/labels and /fields.
import { badRequest } from './errors.ts';

type Obj = Record<string, unknown>;

interface Requirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!exists' | '=' | '!=' | 'gt' | 'lt';
  values: string[];
}

/** A compiled selector: true when the object matches. */
export type Matcher = (obj: Obj) => boolean;

// Split on commas that are not inside parentheses.
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

function parseLabelSelector(sel: string): Requirement[] {
  return splitTerms(sel).map((term) => {
    let m = /^([^\s!=<>()]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m) return { key: m[1]!, op: m[2] as 'in' | 'notin', values: m[3]!.split(',').map((v) => v.trim()).filter((v) => v !== '') };
    m = /^!\s*([^\s!=<>()]+)$/.exec(term);
    if (m) return { key: m[1]!, op: '!exists', values: [] };
    m = /^([^\s!=<>()]+)\s*(==|=|!=|>|<)\s*([^\s,()]*)$/.exec(term);
    if (m) {
      const op = m[2] === '!=' ? '!=' : m[2] === '>' ? 'gt' : m[2] === '<' ? 'lt' : '=';
      return { key: m[1]!, op, values: [m[3]!] };
    }
    m = /^([^\s!=<>()]+)$/.exec(term);
    if (m) return { key: m[1]!, op: 'exists', values: [] };
    throw badRequest(`unable to parse requirement: found '${term}', expected: identifier`);
  });
}

function matches(req: Requirement, get: (key: string) => string | undefined): boolean {
  const v = get(req.key);
  switch (req.op) {
    case 'exists':
      return v !== undefined;
    case '!exists':
      return v === undefined;
    case '=':
      return v === req.values[0];
    case '!=':
      return v !== req.values[0];
    case 'in':
      return v !== undefined && req.values.includes(v);
    case 'notin':
      return v === undefined || !req.values.includes(v);
    case 'gt':
      return v !== undefined && Number(v) > Number(req.values[0]);
    case 'lt':
      return v !== undefined && Number(v) < Number(req.values[0]);
  }
}

/** Compile a labelSelector query string; an empty one matches everything. Throws 400 when malformed. */
export function labelSelector(sel: string | null | undefined): Matcher {
  if (!sel) return () => true;
  const reqs = parseLabelSelector(sel);
  return (obj) => {
    const labels = ((obj.metadata as Obj | undefined)?.labels ?? {}) as Record<string, string>;
    return reqs.every((r) => matches(r, (k) => labels[k]));
  };
}

/** True when a LabelSelector object ({matchLabels, matchExpressions}) selects these labels. */
export function selectorMatches(selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' } as const)[e.operator as 'In'];
    if (!op || !matches({ key: e.key, op, values: e.values ?? [] }, (k) => l[k])) return false;
  }
  return true;
}

function fieldValue(obj: Obj, path: string): string | undefined {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Obj)[part];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

/** Compile a fieldSelector (`=`, `==`, `!=` on dotted paths such as metadata.name or spec.nodeName). */
export function fieldSelector(sel: string | null | undefined): Matcher {
  if (!sel) return () => true;
  const reqs = splitTerms(sel).map((term) => {
    const m = /^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${sel}'; can't understand '${term}'`);
    return { path: m[1]!, neg: m[2] === '!=', value: m[3]!.trim() };
  });
  return (obj) => reqs.every((r) => (fieldValue(obj, r.path) === r.value) !== r.neg);
}

// What Envoy checks before it takes a config: the protoc-gen-validate rules written on its protos
// (`[(validate.rules).string = {min_len: 1}]`, `option (validate.required)` on a oneof), read from
// the shipped .proto files through protobufjs's parsed options. A test-side check, so the rules
// apply to our JSON-shaped messages as Envoy's generated Validate() would to the decoded proto.
// Rules this checker does not know fail the check (never a silent pass), and so does a field
// marked deprecated (Envoy rejects those with --reject-deprecated and warns otherwise).
import protobuf from 'protobufjs';
import { envoyRoot, messageType } from '../../src/xds/protos.ts';

type Rules = Record<string, Record<string, unknown>>;

/** Envoy's well-known header regexes (validate.proto, non-strict as Envoy builds them). */
const WELL_KNOWN: Record<string, Pick<RegExp, 'test'>> = {
  HTTP_HEADER_NAME: /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/,
  // No control characters but horizontal tab (checked by code point, not a control-character regex).
  HTTP_HEADER_VALUE: { test: (s: string) => ![...s].some((ch) => { const c = ch.codePointAt(0)!; return (c < 0x20 && c !== 0x09) || c === 0x7f; }) },
};

const WRAPPER_INNER = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue']);

function fieldRules(field: protobuf.Field): Rules | undefined {
  const parsed = (field as unknown as { parsedOptions?: Record<string, unknown>[] }).parsedOptions ?? [];
  for (const o of parsed) if (o['(validate.rules)']) return o['(validate.rules)'] as Rules;
  return undefined;
}

function deprecated(field: protobuf.Field): boolean {
  return field.options?.deprecated === true;
}

/** A repeated option with one value comes back as that value. */
const list = (w: unknown): unknown[] => (Array.isArray(w) ? w : [w]);

const seconds = (d: unknown): number => {
  if (typeof d === 'string') return Number(d.replace(/s$/, ''));
  const o = (d ?? {}) as { seconds?: number | string; nanos?: number };
  return Number(o.seconds ?? 0) + Number(o.nanos ?? 0) / 1e9;
};

/** Check a scalar (or a wrapper's inner value, or a duration) against one kind of rules. */
function scalarRules(kind: string, rules: Record<string, unknown>, v: unknown, path: string, enumType?: protobuf.Enum): string[] {
  const errs: string[] = [];
  const bad = (rule: string, want: unknown): void => void errs.push(`${path}: ${JSON.stringify(v)} breaks ${kind}.${rule} ${JSON.stringify(want)}`);
  for (const [rule, want] of Object.entries(rules)) {
    if (rule === 'ignore_empty' || rule === 'strict') continue;
    if (kind === 'string') {
      const s = String(v ?? '');
      if (rules.ignore_empty && s === '') continue;
      const len = [...s].length;
      if (rule === 'min_len' && len < Number(want)) bad(rule, want);
      else if (rule === 'max_len' && len > Number(want)) bad(rule, want);
      else if (rule === 'len' && len !== Number(want)) bad(rule, want);
      else if (rule === 'min_bytes' && Buffer.byteLength(s) < Number(want)) bad(rule, want);
      else if (rule === 'max_bytes' && Buffer.byteLength(s) > Number(want)) bad(rule, want);
      else if (rule === 'prefix' && !s.startsWith(String(want))) bad(rule, want);
      else if (rule === 'suffix' && !s.endsWith(String(want))) bad(rule, want);
      else if (rule === 'contains' && !s.includes(String(want))) bad(rule, want);
      else if (rule === 'in' && !list(want).includes(s)) bad(rule, want);
      else if (rule === 'not_in' && list(want).includes(s)) bad(rule, want);
      else if (rule === 'well_known_regex') {
        const re = WELL_KNOWN[String(want)];
        if (!re) errs.push(`${path}: rule string.well_known_regex ${String(want)} not checked`);
        else if (s !== '' && !re.test(s)) bad(rule, want);
      } else if (rule === 'pattern') {
        // RE2 syntax: the patterns Envoy uses here are plain enough for JavaScript.
        if (!new RegExp(String(want), 'u').test(s)) bad(rule, want);
      } else if (!['min_len', 'max_len', 'len', 'min_bytes', 'max_bytes', 'prefix', 'suffix', 'contains', 'in', 'not_in'].includes(rule)) errs.push(`${path}: rule string.${rule} not checked`);
    } else if (kind === 'enum') {
      const name = typeof v === 'number' ? enumType?.valuesById[v] : String(v ?? Object.keys(enumType?.values ?? {})[0]);
      const num = typeof v === 'number' ? v : enumType?.values[String(name)];
      if (rule === 'defined_only' && want && (name === undefined || num === undefined)) bad(rule, want);
      else if (rule === 'in' && !list(want).map(Number).includes(Number(num))) bad(rule, want);
      else if (rule === 'not_in' && list(want).map(Number).includes(Number(num))) bad(rule, want);
      else if (!['defined_only', 'in', 'not_in'].includes(rule)) errs.push(`${path}: rule enum.${rule} not checked`);
    } else if (kind === 'duration' || kind === 'timestamp') {
      if (rule === 'required') continue;
      const n = seconds(v);
      const w = seconds(want);
      if ((rule === 'gt' && !(n > w)) || (rule === 'gte' && !(n >= w)) || (rule === 'lt' && !(n < w)) || (rule === 'lte' && !(n <= w))) bad(rule, want);
      else if (!['gt', 'gte', 'lt', 'lte'].includes(rule)) errs.push(`${path}: rule ${kind}.${rule} not checked`);
    } else if (['double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64'].includes(kind)) {
      const n = Number(v ?? 0);
      const w = Number(want);
      if ((rule === 'gt' && !(n > w)) || (rule === 'gte' && !(n >= w)) || (rule === 'lt' && !(n < w)) || (rule === 'lte' && !(n <= w)) || (rule === 'const' && n !== w)) bad(rule, want);
      else if (rule === 'in' && !list(want).map(Number).includes(n)) bad(rule, want);
      else if (rule === 'not_in' && list(want).map(Number).includes(n)) bad(rule, want);
      else if (!['gt', 'gte', 'lt', 'lte', 'const', 'in', 'not_in'].includes(rule)) errs.push(`${path}: rule ${kind}.${rule} not checked`);
    } else if (kind === 'bool') {
      if (rule === 'const' && Boolean(v) !== want) bad(rule, want);
    } else if (kind === 'bytes') {
      // proto3 JSON carries bytes as base64; unset is empty.
      const b = v instanceof Uint8Array ? Buffer.from(v) : typeof v === 'string' ? Buffer.from(v, 'base64') : Buffer.alloc(0);
      if (rules.ignore_empty && b.length === 0) continue;
      if ((rule === 'min_len' && b.length < Number(want)) || (rule === 'max_len' && b.length > Number(want)) || (rule === 'len' && b.length !== Number(want))) bad(rule, want);
      else if (rule === 'well_known_regex') {
        const re = WELL_KNOWN[String(want)];
        if (!re) errs.push(`${path}: rule bytes.well_known_regex ${String(want)} not checked`);
        else if (b.length && !re.test(b.toString('latin1'))) bad(rule, want);
      } else if (!['min_len', 'max_len', 'len', 'well_known_regex'].includes(rule)) errs.push(`${path}: rule bytes.${rule} not checked`);
    } else errs.push(`${path}: rules of kind ${kind} not checked`);
  }
  return errs;
}

/** Rules on one value of a field (an item of a repeated field, a map value, or the field itself). */
function valueRules(field: protobuf.Field, rules: Rules | undefined, v: unknown, path: string): string[] {
  const errs: string[] = [];
  const rt = field.resolvedType;
  if (rules) {
    for (const [kind, r] of Object.entries(rules)) {
      if (kind === 'message') continue; // presence, handled by the caller
      if (kind === 'repeated' || kind === 'map') continue;
      if (kind === 'any') {
        const url = (v as Record<string, unknown> | undefined)?.['@type'];
        if (r.in && !(r.in as string[]).includes(String(url))) errs.push(`${path}: Any ${String(url)} not in ${JSON.stringify(r.in)}`);
        continue;
      }
      if (rt instanceof protobuf.Type && WRAPPER_INNER.has(rt.name)) errs.push(...scalarRules(kind, r, (v as { value?: unknown } | undefined)?.value, path));
      else errs.push(...scalarRules(kind, r, v, path, rt instanceof protobuf.Enum ? rt : undefined));
    }
  }
  if (rt instanceof protobuf.Type && v !== undefined && v !== null) errs.push(...check(rt, v, path));
  return errs;
}

function check(type: protobuf.Type, obj: unknown, path: string): string[] {
  if (typeof obj !== 'object' || obj === null) return [];
  const o = obj as Record<string, unknown>;
  if (type.fullName === '.google.protobuf.Any') {
    const url = String(o['@type'] ?? '');
    const inner = envoyRoot().lookupType(url.slice(url.lastIndexOf('/') + 1));
    const { '@type': _t, ...rest } = o;
    return check(inner, rest, `${path}<${inner.name}>`);
  }
  // google.protobuf.Struct/Value carry user data and no rules.
  if (type.fullName.startsWith('.google.protobuf.')) return [];
  const errs: string[] = [];
  for (const field of type.fieldsArray) {
    field.resolve();
    const v = o[field.name];
    const p = `${path}.${field.name}`;
    const present = v !== undefined && v !== null;
    if (present && deprecated(field)) errs.push(`${p}: deprecated field`);
    // A oneof member's rules apply only when it is the member set.
    if (!present && field.partOf && !field.partOf.name.startsWith('_')) continue;
    const rules = fieldRules(field);
    if (field.repeated || field.map) {
      const items = field.map ? Object.values((v ?? {}) as Record<string, unknown>) : ((v ?? []) as unknown[]);
      const rep = rules?.[field.map ? 'map' : 'repeated'] as Record<string, unknown> | undefined;
      for (const [rule, want] of Object.entries(rep ?? {})) {
        if ((rule === 'min_items' || rule === 'min_pairs') && items.length < Number(want)) errs.push(`${p}: ${items.length} items breaks ${rule} ${String(want)}`);
        else if ((rule === 'max_items' || rule === 'max_pairs') && items.length > Number(want)) errs.push(`${p}: ${items.length} items breaks ${rule} ${String(want)}`);
        else if (rule === 'unique' && new Set(items.map((x) => JSON.stringify(x))).size !== items.length) errs.push(`${p}: items not unique`);
        else if (rule === 'ignore_empty') continue;
        else if (rule === 'keys' && field.map) for (const k of Object.keys((v ?? {}) as object)) errs.push(...scalarRules(Object.keys(want as object)[0]!, Object.values(want as object)[0] as Record<string, unknown>, k, `${p}[${k}]`));
        else if (!['min_items', 'max_items', 'min_pairs', 'max_pairs', 'unique', 'items', 'values', 'keys'].includes(rule)) errs.push(`${p}: rule ${rule} not checked`);
      }
      const itemRules = (rep?.items ?? rep?.values) as Rules | undefined;
      items.forEach((x, i) => errs.push(...valueRules(field, itemRules, x, `${p}[${i}]`)));
      continue;
    }
    const msgRules = rules?.message as { required?: boolean; skip?: boolean } | undefined;
    const required = msgRules?.required || (rules?.duration as { required?: boolean } | undefined)?.required || (rules?.any as { required?: boolean } | undefined)?.required;
    if (required && !present) {
      errs.push(`${p}: required`);
      continue;
    }
    if (msgRules?.skip) continue;
    // Scalars are checked at their default when absent (as proto3 reads them); absent messages only for presence.
    if (!present && field.resolvedType instanceof protobuf.Type) continue;
    errs.push(...valueRules(field, rules, v, p));
  }
  for (const oneof of type.oneofsArray) {
    const req = (oneof as unknown as { parsedOptions?: Record<string, unknown>[] }).parsedOptions?.some((x) => x['(validate.required)'] === true) ?? oneof.options?.['(validate.required)'] === true;
    if (req && !oneof.oneof.some((n) => o[n] !== undefined && o[n] !== null)) errs.push(`${path}: one of ${oneof.oneof.join(', ')} is required`);
  }
  return errs;
}

/** Every protoc-gen-validate rule (and deprecated field) `obj` breaks as a `typeName` message; empty when Envoy would accept it. */
export function validateRules(typeName: string, obj: unknown): string[] {
  return check(messageType(typeName), obj, typeName.slice(typeName.lastIndexOf('.') + 1));
}

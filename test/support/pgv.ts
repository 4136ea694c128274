// Envoy's protoc-gen-validate rules (`(validate.rules)` on fields, `(validate.required)` on oneofs),
// checked on the plain JSON-shaped resources mesh emits: what Envoy's own validation would reject
// at config load (it refuses the whole resource then). Read from the shipped .proto files through
// protobufjs' parsed options, so the rules are Envoy's, not restated here. Covers the rule kinds
// Envoy's route, listener, cluster and endpoint protos use: string, numbers, enum, message
// required, repeated, map, duration, Any and wrapper types; an unknown rule kind fails loudly.
import protobuf from 'protobufjs';
import { envoyRoot } from '../../src/xds/protos.ts';

type Rules = Record<string, unknown>;
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function rulesOf(options: unknown, name: string): Rules | undefined {
  if (!Array.isArray(options)) return undefined;
  for (const o of options) if (isObj(o) && isObj(o[name])) return o[name];
  return undefined;
}

function required(options: unknown, name: string): boolean {
  return Array.isArray(options) && options.some((o) => isObj(o) && o[name] === true);
}

// PGV's well-known header regexes in non-strict mode: only NUL, CR and LF are refused.
const LOOSE_HEADER = /^[^\0\r\n]*$/;
const STRICT_NAME = /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/;

function durationMs(v: unknown): number {
  return isObj(v) ? Number(v.seconds ?? 0) * 1000 + Number(v.nanos ?? 0) / 1e6 : NaN;
}

function numberRules(r: Rules, v: number, p: string, errors: string[], asNumber: (x: unknown) => number = Number): void {
  if (r.const !== undefined && v !== asNumber(r.const)) errors.push(`${p}: must be ${String(r.const)}`);
  if (r.gt !== undefined && !(v > asNumber(r.gt))) errors.push(`${p}: must be > ${JSON.stringify(r.gt)}`);
  if (r.gte !== undefined && !(v >= asNumber(r.gte))) errors.push(`${p}: must be >= ${JSON.stringify(r.gte)}`);
  if (r.lt !== undefined && !(v < asNumber(r.lt))) errors.push(`${p}: must be < ${JSON.stringify(r.lt)}`);
  if (r.lte !== undefined && !(v <= asNumber(r.lte))) errors.push(`${p}: must be <= ${JSON.stringify(r.lte)}`);
  if (Array.isArray(r.in) && !r.in.map(asNumber).includes(v)) errors.push(`${p}: must be one of ${JSON.stringify(r.in)}`);
  if (Array.isArray(r.not_in) && r.not_in.map(asNumber).includes(v)) errors.push(`${p}: must not be one of ${JSON.stringify(r.not_in)}`);
}

function stringRules(r: Rules, v: string, p: string, errors: string[]): void {
  const len = [...v].length;
  const bytes = Buffer.byteLength(v);
  if (r.len !== undefined && len !== Number(r.len)) errors.push(`${p}: must be ${String(r.len)} characters`);
  if (r.min_len !== undefined && len < Number(r.min_len)) errors.push(`${p}: must have at least ${String(r.min_len)} characters`);
  if (r.max_len !== undefined && len > Number(r.max_len)) errors.push(`${p}: must have at most ${String(r.max_len)} characters`);
  if (r.min_bytes !== undefined && bytes < Number(r.min_bytes)) errors.push(`${p}: must have at least ${String(r.min_bytes)} bytes`);
  if (r.max_bytes !== undefined && bytes > Number(r.max_bytes)) errors.push(`${p}: must have at most ${String(r.max_bytes)} bytes`);
  if (typeof r.prefix === 'string' && !v.startsWith(r.prefix)) errors.push(`${p}: must start with ${r.prefix}`);
  if (typeof r.suffix === 'string' && !v.endsWith(r.suffix)) errors.push(`${p}: must end with ${r.suffix}`);
  if (typeof r.contains === 'string' && !v.includes(r.contains)) errors.push(`${p}: must contain ${r.contains}`);
  if (typeof r.pattern === 'string' && !new RegExp(r.pattern.replace(/\(\?P</g, '(?<'), 'u').test(v)) errors.push(`${p}: must match ${r.pattern}`);
  if (Array.isArray(r.in) && !r.in.includes(v)) errors.push(`${p}: must be one of ${JSON.stringify(r.in)}`);
  if (Array.isArray(r.not_in) && r.not_in.includes(v)) errors.push(`${p}: must not be one of ${JSON.stringify(r.not_in)}`);
  if (r.well_known_regex !== undefined) {
    const strict = r.strict !== false;
    const ok = r.well_known_regex === 'HTTP_HEADER_NAME' && strict ? STRICT_NAME.test(v) : LOOSE_HEADER.test(v);
    if (!ok) errors.push(`${p}: is not a valid ${String(r.well_known_regex)}`);
  }
}

const WRAPPERS: Record<string, string> = {
  '.google.protobuf.UInt32Value': 'uint32',
  '.google.protobuf.UInt64Value': 'uint64',
  '.google.protobuf.Int32Value': 'int32',
  '.google.protobuf.Int64Value': 'int64',
  '.google.protobuf.DoubleValue': 'double',
  '.google.protobuf.FloatValue': 'float',
  '.google.protobuf.BoolValue': 'bool',
  '.google.protobuf.StringValue': 'string',
};

/** One value of a field against the field's rules (for repeated fields, `items` rules). */
function valueRules(field: protobuf.Field, r: Rules | undefined, v: unknown, p: string, errors: string[]): void {
  const rt = field.resolvedType;
  if (r) {
    for (const [kind, rule] of Object.entries(r)) {
      if (!isObj(rule)) {
        if (kind === 'message') continue;
        throw new Error(`pgv: unsupported rule ${kind} at ${p}`);
      }
      if (kind === 'message') {
        if (rule.required === true && (v === undefined || v === null)) errors.push(`${p}: is required`);
        continue;
      }
      if (v === undefined || v === null) continue;
      if (kind === 'string') stringRules(rule, isObj(v) ? String(v.value ?? '') : String(v), p, errors);
      else if (['uint32', 'uint64', 'int32', 'int64', 'double', 'float', 'fixed32', 'fixed64', 'sint32', 'sint64', 'sfixed32', 'sfixed64'].includes(kind)) numberRules(rule, Number(isObj(v) ? (v.value ?? 0) : v), p, errors);
      else if (kind === 'enum') {
        if (rt instanceof protobuf.Enum) {
          const n = typeof v === 'string' ? rt.values[v] : Number(v);
          if (rule.defined_only === true && (n === undefined || !Object.values(rt.values).includes(n))) errors.push(`${p}: ${String(v)} is not a defined ${rt.name}`);
          const names = (xs: unknown): unknown[] => (Array.isArray(xs) ? xs : []);
          if (Array.isArray(rule.in) && !names(rule.in).map(Number).includes(n!)) errors.push(`${p}: must be one of ${JSON.stringify(rule.in)}`);
          if (Array.isArray(rule.not_in) && names(rule.not_in).map(Number).includes(n!)) errors.push(`${p}: must not be one of ${JSON.stringify(rule.not_in)}`);
        }
      } else if (kind === 'duration') {
        if (rule.required === true && !isObj(v)) errors.push(`${p}: is required`);
        if (isObj(v)) numberRules(rule, durationMs(v), p, errors, (x) => durationMs(x));
      } else if (kind === 'any') {
        if (Array.isArray(rule.in) && isObj(v) && !rule.in.includes(v['@type'])) errors.push(`${p}: Any type must be one of ${JSON.stringify(rule.in)}`);
      } else if (kind === 'bool' || kind === 'bytes' || kind === 'timestamp') {
        if (kind === 'bool' && rule.const !== undefined && Boolean(isObj(v) ? v.value : v) !== rule.const) errors.push(`${p}: must be ${String(rule.const)}`);
      } else if (kind !== 'repeated' && kind !== 'map') throw new Error(`pgv: unsupported rule kind ${kind} at ${p}`);
    }
  }
  if (v !== undefined && v !== null && rt instanceof protobuf.Type && !WRAPPERS[rt.fullName]) errors.push(...check(rt, v, p));
}

function check(type: protobuf.Type, obj: unknown, path: string): string[] {
  if (!isObj(obj)) return [];
  if (type.fullName === '.google.protobuf.Any') {
    const url = obj['@type'];
    if (typeof url !== 'string') return [`${path}: Any without @type`];
    const { '@type': _t, ...rest } = obj;
    return check(envoyRoot().lookupType(url.slice(url.lastIndexOf('/') + 1)), rest, `${path}<${url.slice(url.lastIndexOf('.') + 1)}>`);
  }
  const errors: string[] = [];
  for (const field of type.fieldsArray) {
    field.resolve();
    const rules = rulesOf(field.parsedOptions, '(validate.rules)');
    const v = obj[field.name];
    const p = `${path}.${field.name}`;
    if (field.map) {
      const entries = isObj(v) ? Object.entries(v) : [];
      const mr = isObj(rules?.map) ? rules.map : undefined;
      if (mr?.min_pairs !== undefined && entries.length < Number(mr.min_pairs)) errors.push(`${p}: needs at least ${String(mr.min_pairs)} entries`);
      for (const [k, x] of entries) valueRules(field, isObj(mr?.values) ? mr.values : undefined, x, `${p}[${k}]`, errors);
    } else if (field.repeated) {
      const items = Array.isArray(v) ? v : [];
      const rr = isObj(rules?.repeated) ? rules.repeated : undefined;
      if (rr?.min_items !== undefined && items.length < Number(rr.min_items)) errors.push(`${p}: needs at least ${String(rr.min_items)} items`);
      if (rr?.max_items !== undefined && items.length > Number(rr.max_items)) errors.push(`${p}: allows at most ${String(rr.max_items)} items`);
      if (rr?.unique === true && new Set(items.map((x) => JSON.stringify(x))).size !== items.length) errors.push(`${p}: items must be unique`);
      items.forEach((x, i) => valueRules(field, isObj(rr?.items) ? rr.items : undefined, x, `${p}[${i}]`, errors));
    } else if ((v === undefined || v === null) && field.partOf) {
      // An unset oneof member is not validated (its rules, `required` included, apply once it is the one set).
      continue;
    } else if ((v === undefined || v === null) && !(field.resolvedType instanceof protobuf.Type)) {
      // An unset proto3 scalar is its default value, and PGV checks that too (a oneof member unset is not checked).
      valueRules(field, rules, field.resolvedType instanceof protobuf.Enum ? 0 : field.type === 'string' ? '' : field.type === 'bool' ? false : 0, p, errors);
    } else {
      valueRules(field, rules, v, p, errors);
    }
  }
  for (const oneof of type.oneofsArray) {
    if (required(oneof.parsedOptions, '(validate.required)') && !oneof.oneof.some((n) => obj[n] !== undefined && obj[n] !== null)) errors.push(`${path}: one of ${oneof.oneof.join(', ')} is required`);
  }
  return errors;
}

/** Every protoc-gen-validate rule a resource of `typeName` (fully qualified, or a type URL) breaks; [] when Envoy would accept it. */
export function validateRules(typeName: string, obj: unknown): string[] {
  const name = typeName.slice(typeName.lastIndexOf('/') + 1);
  return check(envoyRoot().lookupType(name), obj, name);
}

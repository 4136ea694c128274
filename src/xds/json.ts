import protobuf from 'protobufjs';
import { messageType } from './protos.js';

/**
 * Canonical proto3 JSON of a resource in our plain form (translate.ts's `{seconds, nanos}`
 * Durations, `{value}` wrappers, `{'@type', ...}` Anys), as Envoy's own config_dump prints it, so
 * `mesh proxy-config -o json` diffs cleanly against a real Envoy: Durations as "10s", wrapper
 * types as bare values, Timestamps as RFC 3339, enums as names, 64-bit integers as strings, bytes
 * as base64, and Anys with `@type` (a well-known type inside an Any under "value"). Field names
 * stay snake_case, as Envoy prints them. Pure; fields the descriptors do not know pass through.
 */
export function toProto3Json(typeUrlOrName: string, resource: unknown): unknown {
  return message(messageType(typeUrlOrName), resource);
}

const WKT = '.google.protobuf.';
const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => WKT + n));
const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/** True for the well-known types whose JSON is not an object of their fields. */
function specialJson(type: protobuf.Type): boolean {
  return WRAPPERS.has(type.fullName) || [`${WKT}Duration`, `${WKT}Timestamp`, `${WKT}Struct`, `${WKT}Value`, `${WKT}ListValue`, `${WKT}FieldMask`].includes(type.fullName);
}

function message(type: protobuf.Type, v: unknown): unknown {
  if (!isObj(v)) return v;
  switch (type.fullName) {
    case `${WKT}Duration`:
      return seconds(v.seconds, v.nanos) + 's';
    case `${WKT}Timestamp`:
      return timestamp(v.seconds, v.nanos);
    case `${WKT}Any`:
      return any(v);
    case `${WKT}Struct`:
    case `${WKT}Value`:
    case `${WKT}ListValue`:
      // Our translation writes these as plain JSON already (no {fields: ...} form).
      return v;
  }
  if (WRAPPERS.has(type.fullName)) return 'value' in v ? field(type.fields.value!, v.value) : v;
  const out: Obj = {};
  for (const [key, x] of Object.entries(v)) {
    const f = type.fields[key];
    out[key] = f && x !== undefined && x !== null ? field(f, x) : x;
  }
  return out;
}

function field(f: protobuf.Field, x: unknown): unknown {
  f.resolve();
  if (f.map && isObj(x)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, single(f, v)]));
  if (f.repeated && Array.isArray(x)) return x.map((v) => single(f, v));
  return single(f, x);
}

function single(f: protobuf.Field, x: unknown): unknown {
  const rt = f.resolvedType;
  if (rt instanceof protobuf.Type) return message(rt, x);
  if (rt instanceof protobuf.Enum) return typeof x === 'number' ? (rt.valuesById[x] ?? x) : x;
  if (INT64.has(f.type) && (typeof x === 'number' || typeof x === 'bigint')) return String(x);
  if (f.type === 'bytes') return bytes(x);
  if ((f.type === 'double' || f.type === 'float') && typeof x === 'number' && !Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
  return x;
}

function bytes(x: unknown): unknown {
  if (x instanceof Uint8Array) return Buffer.from(x).toString('base64');
  if (isObj(x) && x.type === 'Buffer' && Array.isArray(x.data)) return Buffer.from(x.data as number[]).toString('base64');
  return x;
}

function any(v: Obj): unknown {
  const url = v['@type'];
  if (typeof url !== 'string') return v;
  let inner: protobuf.Type;
  try {
    inner = messageType(url);
  } catch {
    return v;
  }
  const { '@type': _t, ...rest } = v;
  if (specialJson(inner)) return { '@type': url, value: message(inner, 'value' in rest && !WRAPPERS.has(inner.fullName) ? rest.value : rest) };
  return { '@type': url, ...(message(inner, rest) as Obj) };
}

/** Seconds and nanos as proto3 JSON writes them: 0, 3, 6 or 9 fraction digits, sign in front. */
function seconds(s: unknown, n: unknown): string {
  const secs = BigInt(typeof s === 'number' || typeof s === 'string' || typeof s === 'bigint' ? s : 0);
  const nanos = typeof n === 'number' ? n : Number(n ?? 0);
  const negative = secs < 0n || nanos < 0;
  const absSecs = secs < 0n ? -secs : secs;
  const absNanos = Math.abs(nanos);
  let frac = '';
  if (absNanos !== 0) {
    const digits = String(absNanos).padStart(9, '0');
    frac = '.' + (absNanos % 1_000_000 === 0 ? digits.slice(0, 3) : absNanos % 1000 === 0 ? digits.slice(0, 6) : digits);
  }
  return `${negative ? '-' : ''}${absSecs}${frac}`;
}

function timestamp(s: unknown, n: unknown): string {
  const secs = Number(s ?? 0);
  const nanos = Number(n ?? 0);
  const base = new Date(secs * 1000).toISOString().replace(/\.000Z$/, '');
  return base + (nanos ? seconds(0, nanos).slice(1) : '') + 'Z';
}

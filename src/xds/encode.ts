import protobuf from 'protobufjs';
import { envoyRoot, messageType } from './protos.js';
import type { Msg } from './translate.js';

const ANY = 'google.protobuf.Any';

/** A resource packed for the wire: google.protobuf.Any's two fields. */
export interface AnyBytes {
  type_url: string;
  value: Uint8Array;
}

/**
 * Every problem protobufjs would silently accept in a plain message: unknown (misspelled) fields,
 * enum names that do not exist, two members of one oneof, wrong shapes, and the same inside every
 * Any (`@type` must name a loaded type). Empty when the message is well-formed.
 */
export function strictCheck(typeName: string, obj: unknown, path = ''): string[] {
  return check(messageType(typeName), obj, path || typeName);
}

/**
 * strictCheck for a document in proto3's JSON mapping (what Envoy reads from a bootstrap file):
 * the same checks, with the well-known types in their JSON forms (a Duration as "1s", a Struct
 * as any JSON object).
 */
export function strictCheckJson(typeName: string, obj: unknown, path = ''): string[] {
  return check(messageType(typeName), obj, path || typeName, true);
}

const JSON_FORMS: Record<string, (v: unknown) => boolean> = {
  '.google.protobuf.Duration': (v) => typeof v === 'string' && /^-?\d+(\.\d{1,9})?s$/.test(v),
  '.google.protobuf.Struct': (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  '.google.protobuf.Value': () => true,
  '.google.protobuf.Timestamp': (v) => typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/.test(v),
  // Wrappers are their bare value in JSON (64-bit ones as strings or numbers).
  '.google.protobuf.BoolValue': (v) => typeof v === 'boolean',
  '.google.protobuf.StringValue': (v) => typeof v === 'string',
  '.google.protobuf.BytesValue': (v) => typeof v === 'string',
  '.google.protobuf.UInt32Value': (v) => Number.isInteger(v),
  '.google.protobuf.Int32Value': (v) => Number.isInteger(v),
  '.google.protobuf.UInt64Value': (v) => Number.isInteger(v) || (typeof v === 'string' && /^\d+$/.test(v)),
  '.google.protobuf.Int64Value': (v) => Number.isInteger(v) || (typeof v === 'string' && /^-?\d+$/.test(v)),
  '.google.protobuf.DoubleValue': (v) => typeof v === 'number' || v === 'NaN' || v === 'Infinity' || v === '-Infinity',
  '.google.protobuf.FloatValue': (v) => typeof v === 'number' || v === 'NaN' || v === 'Infinity' || v === '-Infinity',
};

function check(type: protobuf.Type, obj: unknown, path: string, json = false): string[] {
  const form = json ? JSON_FORMS[type.fullName] : undefined;
  if (form) return form(obj) ? [] : [`${path}: ${JSON.stringify(obj)} is not the JSON form of ${type.name}`];
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return [`${path}: expected a ${type.name} message, got ${JSON.stringify(obj)}`];
  const errors: string[] = [];
  const o = obj as Record<string, unknown>;
  if (type.fullName === `.${ANY}`) {
    const url = o['@type'];
    if (typeof url !== 'string') return [`${path}: Any without @type`];
    let inner: protobuf.Type;
    try {
      inner = envoyRoot().lookupType(url.slice(url.lastIndexOf('/') + 1));
    } catch {
      return [`${path}: @type ${url} is not a known message`];
    }
    const { '@type': _t, ...rest } = o;
    // In JSON, an Any holding a well-known type with a special form carries it under "value".
    if (json && JSON_FORMS[inner.fullName]) return check(inner, rest.value, `${path}<${inner.name}>`, json);
    return check(inner, rest, `${path}<${inner.name}>`, json);
  }
  for (const [key, value] of Object.entries(o)) {
    const field = type.fields[key];
    if (!field) {
      errors.push(`${path}.${key}: no such field in ${type.fullName.slice(1)}`);
      continue;
    }
    if (value === undefined || value === null) continue;
    field.resolve();
    const one = (v: unknown, p: string): void => {
      const rt = field.resolvedType;
      if (rt instanceof protobuf.Type) errors.push(...check(rt, v, p, json));
      else if (rt instanceof protobuf.Enum) {
        if (typeof v === 'string' ? !(v in rt.values) : typeof v !== 'number') errors.push(`${p}: ${JSON.stringify(v)} is not a value of ${rt.name}`);
      } else if (field.type === 'string' && typeof v !== 'string') errors.push(`${p}: expected a string`);
      else if (field.type === 'bool' && typeof v !== 'boolean') errors.push(`${p}: expected a boolean`);
      else if (/int|fixed/.test(field.type) && (typeof v !== 'number' && typeof v !== 'string')) errors.push(`${p}: expected an integer`);
      else if ((field.type === 'double' || field.type === 'float') && typeof v !== 'number') errors.push(`${p}: expected a number`);
    };
    if (field.map) {
      if (typeof value !== 'object' || Array.isArray(value)) errors.push(`${path}.${key}: expected a map`);
      else for (const [k, v] of Object.entries(value as Record<string, unknown>)) one(v, `${path}.${key}[${k}]`);
    } else if (field.repeated) {
      if (!Array.isArray(value)) errors.push(`${path}.${key}: expected a list`);
      else value.forEach((v, i) => one(v, `${path}.${key}[${i}]`));
    } else one(value, `${path}.${key}`);
  }
  for (const oneof of type.oneofsArray) {
    const set = oneof.oneof.filter((n) => o[n] !== undefined && o[n] !== null);
    if (set.length > 1) errors.push(`${path}: ${set.join(' and ')} are one of ${oneof.name}; set only one`);
  }
  return errors;
}

/** Message types by type URL: encodeResource runs for every resource of every snapshot. */
const types = new Map<string, protobuf.Type>();
const INTEGER = /int|fixed/;
let anyType: protobuf.Type | undefined;

/**
 * Whether `check` would find no problem, without building a path or message per field: encoding
 * a large mesh checks hundreds of thousands of fields, and the strings were most of its cost.
 * Must accept exactly what check accepts (test/xds/encode.test.ts compares them).
 */
export function valid(type: protobuf.Type, obj: unknown): boolean {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return false;
  const o = obj as Record<string, unknown>;
  // By identity: protobufjs builds fullName from the parents on every read.
  anyType ??= envoyRoot().lookupType(ANY);
  if (type === anyType) {
    const url = o['@type'];
    if (typeof url !== 'string') return false;
    let inner: protobuf.Type;
    try {
      inner = envoyRoot().lookupType(url.slice(url.lastIndexOf('/') + 1));
    } catch {
      return false;
    }
    for (const key in o) {
      if (key === '@type' || !Object.hasOwn(o, key)) continue;
      if (!validField(inner, key, o[key])) return false;
    }
    return validOneofs(inner, o, '@type');
  }
  for (const key in o) {
    if (Object.hasOwn(o, key) && !validField(type, key, o[key])) return false;
  }
  return validOneofs(type, o);
}

function validField(type: protobuf.Type, key: string, value: unknown): boolean {
  const field = type.fields[key];
  if (!field) return false;
  if (value === undefined || value === null) return true;
  field.resolve();
  if (field.map) {
    if (typeof value !== 'object' || Array.isArray(value)) return false;
    for (const k in value as Record<string, unknown>) if (Object.hasOwn(value, k) && !validValue(field, (value as Record<string, unknown>)[k])) return false;
    return true;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) return false;
    for (const v of value) if (!validValue(field, v)) return false;
    return true;
  }
  return validValue(field, value);
}

function validValue(field: protobuf.Field, v: unknown): boolean {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return valid(rt, v);
  if (rt instanceof protobuf.Enum) return typeof v === 'string' ? v in rt.values : typeof v === 'number';
  if (field.type === 'string') return typeof v === 'string';
  if (field.type === 'bool') return typeof v === 'boolean';
  if (INTEGER.test(field.type)) return typeof v === 'number' || typeof v === 'string';
  if (field.type === 'double' || field.type === 'float') return typeof v === 'number';
  return true;
}

function validOneofs(type: protobuf.Type, o: Record<string, unknown>, skip?: string): boolean {
  for (const oneof of type.oneofsArray) {
    let set = 0;
    for (const n of oneof.oneof) if (n !== skip && o[n] !== undefined && o[n] !== null) set++;
    if (set > 1) return false;
  }
  return true;
}

/** Encode a plain resource as an Any (throws on any strictCheck problem: we never send what we cannot stand behind). */
export function encodeResource(typeUrl: string, obj: Msg): AnyBytes {
  let type = types.get(typeUrl);
  if (!type) types.set(typeUrl, (type = messageType(typeUrl)));
  // The fast check says only whether; the full one, which names every problem, runs on failure.
  if (!valid(type, obj)) {
    const errors = strictCheck(typeUrl.slice(typeUrl.lastIndexOf('/') + 1), obj);
    throw new Error(`invalid ${type.name} ${String(obj.name ?? obj.cluster_name ?? '')}: ${errors.slice(0, 5).join('; ')}`);
  }
  const msg = type.fromObject(obj);
  const bad = type.verify(msg);
  if (bad) throw new Error(`invalid ${type.name}: ${bad}`);
  return { type_url: typeUrl, value: type.encode(msg).finish() };
}

/** Decode an encoded resource back to plain data (Any as `@type`, enums as names, 64-bit as strings). */
export function decodeResource(typeUrl: string, value: Uint8Array): Msg {
  const type = messageType(typeUrl);
  return type.toObject(type.decode(value), { json: true, enums: String, longs: String }) as Msg;
}

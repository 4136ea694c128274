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

/** Encode a plain resource as an Any (throws on any strictCheck problem: we never send what we cannot stand behind). */
export function encodeResource(typeUrl: string, obj: Msg): AnyBytes {
  const type = messageType(typeUrl);
  const errors = strictCheck(typeUrl.slice(typeUrl.lastIndexOf('/') + 1), obj);
  if (errors.length) throw new Error(`invalid ${type.name} ${String(obj.name ?? obj.cluster_name ?? '')}: ${errors.slice(0, 5).join('; ')}`);
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

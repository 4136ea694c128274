import protobuf from 'protobufjs';
import { messageType, typeAt } from './protos.js';

/**
 * Redaction as Envoy's own config_dump does it: by the `(udpa.annotations.sensitive)` annotation
 * of each field in the .proto files (TlsCertificate.private_key, password, pkcs12, GenericSecret,
 * session ticket keys, ...), not by field name, so a header's `key` stays readable. A sensitive
 * string becomes "[redacted]"; inside a sensitive message every string does. Walks into Anys.
 */

const PLACEHOLDER = '[redacted]';
const SENSITIVE = '(udpa.annotations.sensitive)';
type Msg = Record<string, unknown>;
const isMsg = (v: unknown): v is Msg => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/** Every string (and byte string) inside `v` replaced: the content of a sensitive message. */
function blank(v: unknown): unknown {
  if (typeof v === 'string' || v instanceof Uint8Array) return PLACEHOLDER;
  if (Array.isArray(v)) return v.map(blank);
  if (isMsg(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === '@type' ? x : blank(x)]));
  return v;
}

function walk(type: protobuf.Type | undefined, v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => walk(type, x));
  if (!isMsg(v)) return v;
  const t = typeAt(v, type);
  const out: Msg = {};
  for (const [k, x] of Object.entries(v)) {
    const f = t?.fields[k];
    if (f?.options?.[SENSITIVE] === true) {
      out[k] = blank(x);
      continue;
    }
    f?.resolve();
    const rt = f?.resolvedType;
    if (f?.map && isMsg(x)) out[k] = Object.fromEntries(Object.entries(x).map(([mk, mv]) => [mk, walk(rt instanceof protobuf.Type ? rt : undefined, mv)]));
    else out[k] = walk(rt instanceof protobuf.Type ? rt : undefined, x);
  }
  return out;
}

/** A copy of `resource` (of type `typeUrl`, plain form) with its sensitive fields redacted. Pure. */
export function redactSensitive(typeUrl: string, resource: unknown): unknown {
  return walk(messageType(typeUrl), resource);
}

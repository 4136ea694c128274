import protobuf from 'protobufjs';
import type { AnyBytes } from './encode.js';
import type { DiscoveryResponse } from './ads.js';
import type { DeltaDiscoveryResponse, DeltaResource } from './delta.js';

/**
 * The ADS server's responses on the wire, written by hand from encodings kept per resource. A
 * resource's Any (and, on delta streams, its Resource wrapper) is encoded once and shared by
 * every stream and every response that carries it: with thousands of proxies, encoding the same
 * resources again for each stream was most of what a connection storm or a push cost. The bytes
 * are those protobufjs writes for the same message (fields in number order), except that a
 * singular field set to '' is left out, which proto3 reads the same (test/xds/wire.test.ts).
 */

/** google.protobuf.Any of each resource, by its AnyBytes (one encoding per resource, shared). */
const anys = new WeakMap<AnyBytes, Uint8Array>();
/** envoy.service.discovery.v3.Resource of a delta resource, by its AnyBytes, with the name and version it was made with. */
const wrapped = new WeakMap<AnyBytes, { name: string; version: string; bytes: Uint8Array }>();

function anyOf(a: { type_url: string; value: Uint8Array }): Uint8Array {
  let b = anys.get(a);
  if (!b) {
    // Any: type_url = 1, value = 2.
    const w = protobuf.Writer.create();
    if (a.type_url) w.uint32(10).string(a.type_url);
    if (a.value.length) w.uint32(18).bytes(a.value);
    // A copy of its own: a small Buffer shares Node's 8 KB allocation pool, and a kept slice would pin the whole slab.
    anys.set(a, (b = new Uint8Array(w.finish())));
  }
  return b;
}

function resourceOf(r: DeltaResource): Uint8Array {
  const hit = wrapped.get(r.resource);
  if (hit && hit.name === r.name && hit.version === r.version) return hit.bytes;
  // Resource: version = 1, resource = 2, name = 3 (in field number order, as protobufjs writes).
  const w = protobuf.Writer.create();
  if (r.version) w.uint32(10).string(r.version);
  w.uint32(18).bytes(anyOf(r.resource));
  if (r.name) w.uint32(26).string(r.name);
  const bytes = new Uint8Array(w.finish());
  wrapped.set(r.resource, { name: r.name, version: r.version, bytes });
  return bytes;
}

/*
 * Responses are written into one buffer of the exact size, sized in a first pass over the fields
 * and filled in a second, in field-number order as protobufjs writes them: writing one allocates
 * the buffer and nothing else. protobufjs's Writer made an operation object per field: a SotW EDS
 * push of 40 assignments left about 6 KB of garbage, 300 KB per endpoint change at the scale
 * bench's 100 affected proxies. Optional strings are left out when empty (as protobufjs does for
 * unset proto3 fields); repeated ones are written even when empty.
 */

/** Bytes a varint of `n` (a length, below 2^32) takes. */
function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Bytes of a length-delimited field of `length` bytes (tags here are one byte). */
function fieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

function stringSize(s: string, always = false): number {
  return s || always ? fieldSize(Buffer.byteLength(s)) : 0;
}

/** Bytes of the ControlPlane message (identifier = 1) as a field; protobufjs writes it even when empty. */
function controlPlaneSize(identifier: string): number {
  return fieldSize(stringSize(identifier));
}

function varint(out: Buffer, pos: number, n: number): number {
  while (n > 0x7f) {
    out[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[pos++] = n;
  return pos;
}

function putBytes(out: Buffer, pos: number, tag: number, value: Uint8Array): number {
  out[pos++] = tag;
  pos = varint(out, pos, value.length);
  out.set(value, pos);
  return pos + value.length;
}

function putString(out: Buffer, pos: number, tag: number, value: string, always = false): number {
  if (!value && !always) return pos;
  const length = Buffer.byteLength(value);
  out[pos++] = tag;
  pos = varint(out, pos, length);
  return pos + out.write(value, pos, length, 'utf8');
}

function putControlPlane(out: Buffer, pos: number, tag: number, identifier: string): number {
  out[pos++] = tag;
  pos = varint(out, pos, stringSize(identifier));
  return putString(out, pos, 10, identifier);
}

/** A DiscoveryResponse: version_info = 1, resources = 2, type_url = 4, nonce = 5, control_plane = 6. */
export function encodeSotwResponse(r: DiscoveryResponse): Buffer {
  let size = stringSize(r.version_info) + stringSize(r.type_url) + stringSize(r.nonce) + controlPlaneSize(r.control_plane.identifier);
  for (const a of r.resources) size += fieldSize(anyOf(a).length);
  const out = Buffer.allocUnsafe(size);
  let pos = putString(out, 0, 10, r.version_info);
  for (const a of r.resources) pos = putBytes(out, pos, 18, anyOf(a));
  pos = putString(out, pos, 34, r.type_url);
  pos = putString(out, pos, 42, r.nonce);
  putControlPlane(out, pos, 50, r.control_plane.identifier);
  return out;
}

/** A DeltaDiscoveryResponse: system_version_info = 1, resources = 2, type_url = 4, nonce = 5, removed_resources = 6, control_plane = 7. */
export function encodeDeltaResponse(r: DeltaDiscoveryResponse): Buffer {
  let size = stringSize(r.system_version_info) + stringSize(r.type_url) + stringSize(r.nonce) + controlPlaneSize(r.control_plane.identifier);
  for (const x of r.resources) size += fieldSize(resourceOf(x).length);
  for (const n of r.removed_resources) size += stringSize(n, true);
  const out = Buffer.allocUnsafe(size);
  let pos = putString(out, 0, 10, r.system_version_info);
  for (const x of r.resources) pos = putBytes(out, pos, 18, resourceOf(x));
  pos = putString(out, pos, 34, r.type_url);
  pos = putString(out, pos, 42, r.nonce);
  for (const n of r.removed_resources) pos = putString(out, pos, 50, n, true);
  putControlPlane(out, pos, 58, r.control_plane.identifier);
  return out;
}

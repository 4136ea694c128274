import protobuf from 'protobufjs';
import type { AnyBytes } from './encode.js';
import type { DiscoveryResponse } from './ads.js';
import type { DeltaDiscoveryResponse, DeltaResource } from './delta.js';

/**
 * The ADS server's responses on the wire, written by hand from encodings kept per resource. A
 * resource's Any (and, on delta streams, its Resource wrapper) is encoded once and shared by
 * every stream and every response that carries it: with thousands of proxies, encoding the same
 * resources again for each stream was most of what a connection storm or a push cost. The bytes
 * are those protobufjs writes for the same message (fields in number order) (test/xds/wire.test.ts).
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

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** ControlPlane: identifier = 1. */
function controlPlane(w: protobuf.Writer, field: number, identifier: string): void {
  w.uint32((field << 3) | 2).fork();
  if (identifier) w.uint32(10).string(identifier);
  w.ldelim();
}

/** A DiscoveryResponse: version_info = 1, resources = 2, type_url = 4, nonce = 5, control_plane = 6. */
export function encodeSotwResponse(r: DiscoveryResponse): Buffer {
  const w = protobuf.Writer.create();
  if (r.version_info) w.uint32(10).string(r.version_info);
  for (const a of r.resources) w.uint32(18).bytes(anyOf(a));
  if (r.type_url) w.uint32(34).string(r.type_url);
  if (r.nonce) w.uint32(42).string(r.nonce);
  controlPlane(w, 6, r.control_plane.identifier);
  return asBuffer(w.finish());
}

/** A DeltaDiscoveryResponse: system_version_info = 1, resources = 2, type_url = 4, nonce = 5, removed_resources = 6, control_plane = 7. */
export function encodeDeltaResponse(r: DeltaDiscoveryResponse): Buffer {
  const w = protobuf.Writer.create();
  if (r.system_version_info) w.uint32(10).string(r.system_version_info);
  for (const x of r.resources) w.uint32(18).bytes(resourceOf(x));
  if (r.type_url) w.uint32(34).string(r.type_url);
  if (r.nonce) w.uint32(42).string(r.nonce);
  for (const n of r.removed_resources) w.uint32(50).string(n);
  controlPlane(w, 7, r.control_plane.identifier);
  return asBuffer(w.finish());
}

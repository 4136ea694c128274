import type { Snapshot, SnapshotResource } from './snapshot.js';
import type { StreamStatus, TypeSync } from './syncz.js';

/**
 * What the ADS server (ads.ts) and its protocol modes (SotW in ads.ts, delta in delta.ts) share
 * about one stream: the modes depend on this module, never on each other or on the server.
 */

/** A google.protobuf.Value; protobufjs's built-in Struct spells its fields in camelCase even with keepCase. */
export type StructValue = { string_value?: string; stringValue?: string };

/** The node field of a (Delta)DiscoveryRequest. */
export interface RequestNode {
  id?: string;
  cluster?: string;
  user_agent_name?: string;
  /** gRPC clients send their version here... */
  user_agent_version?: string;
  /** ...Envoy sends its build's semantic version here. */
  user_agent_build_version?: { version?: { major_number?: number; minor_number?: number; patch?: number } };
  metadata?: { fields?: Record<string, StructValue> };
}

/** The error_detail of a (Delta)DiscoveryRequest: set on a NACK. */
export interface ErrorDetail {
  code?: number;
  message?: string;
}

/** The longest NACK message kept (syncz, events, logs); a proxy's error_detail is its own text, of any size. */
export const MAX_NACK_MESSAGE = 512;

/** The NACK message of a request's error_detail (cut at MAX_NACK_MESSAGE), or undefined when the request is an ACK. */
export function nackMessage(detail: ErrorDetail | undefined): string | undefined {
  if (!detail || !(detail.message || detail.code)) return undefined;
  const m = detail.message || `code ${detail.code}`;
  return m.length > MAX_NACK_MESSAGE ? `${m.slice(0, MAX_NACK_MESSAGE)}... (${m.length - MAX_NACK_MESSAGE} more characters)` : m;
}

/** What a stream gets of one type now: a snapshot's type set, or the stream's own secrets. */
export interface TypeView {
  readonly version: string;
  readonly resources: ReadonlyMap<string, SnapshotResource>;
}

/**
 * What the server gives a protocol mode for one stream: the stream's state and the bookkeeping both
 * modes share (status fields, events for metrics), so SotW and delta record alike.
 */
export interface StreamContext {
  readonly status: StreamStatus;
  /** Reported in every response's control_plane.identifier. */
  readonly identifier: string;
  /** True once the stream ended: write nothing more. */
  closed(): boolean;
  /** The node's current snapshot (undefined before the controller set one). */
  snapshot(): Snapshot | undefined;
  /** What the stream gets of a type now: its own secrets for SDS when it has a secret session, else the snapshot's set. */
  view(snap: Snapshot | undefined, typeUrl: string): TypeView | undefined;
  /** Whether the type's pushes come from the stream's secret session rather than from snapshot changes. */
  ownSecrets(typeUrl: string): boolean;
  /** The stream subscribed to SDS: the session issues a certificate if it has none yet. */
  wantSecrets(): void;
  /** A fresh nonce, unique on this server. */
  nonce(): string;
  /**
   * Record a response just written (version = version_info or system_version_info) and emit
   * 'push'; its latency runs from `since` when the response carries a change seen before the
   * snapshot's own (one held back behind an unanswered response).
   */
  sent(typeUrl: string, st: TypeSync, version: string, nonce: string, bytes: number, snap: Snapshot | undefined, since?: number): void;
  /** Record an ACK: the proxy now holds `version`. */
  ack(typeUrl: string, st: TypeSync, version: string): void;
  /** Record a NACK of the response `nonce` (which carried `version`); nothing is resent. */
  nack(typeUrl: string, st: TypeSync, version: string, nonce: string, message: string): void;
}

/** One protocol mode's handling of one stream (sotwProtocol in ads.ts, deltaProtocol in delta.ts). */
export interface StreamProtocol<Req> {
  /** A request from the proxy (the first one already identified the node). */
  request(req: Req): void;
  /** The node's snapshot was replaced. */
  snapshot(snap: Snapshot): void;
  /** The stream's secrets changed (issued, renewed, refused). */
  secretsChanged(): void;
}

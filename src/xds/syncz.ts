import { isObject } from '../util/object.js';
import type { ServedCertificate, StreamIdentity } from './secrets.js';
import type { ProxyInfo } from './translate.js';

/**
 * The /debug/syncz and /debug/config_dump formats, defined once: the controller serializes its
 * state with {@link synczDocument} and serves it (src/controller/http.ts); `mesh proxy-status`,
 * `mesh proxy-config`, `mesh edges` and `mesh check` read it with {@link parseSyncz}. Field names
 * are a contract between controller and CLI versions: add fields, never rename them. This module
 * imports no xDS runtime code, so readers do not load the xDS server.
 */

/** Where the controller's introspection server serves the sync state. */
export const SYNCZ_PATH = '/debug/syncz';
/** Where it serves one proxy's config (`?proxy=ID`). */
export const CONFIG_DUMP_PATH = '/debug/config_dump';

/** The xDS node a proxy identifies itself with (first request of a stream). */
export interface NodeInfo extends ProxyInfo {
  userAgent?: string;
  /** The proxy's own version (Envoy's build version, a gRPC library's user agent version), as it reports it. */
  version?: string;
}

/** Per-type state of one stream. */
export interface TypeSync {
  /** Subscribed names; empty means wildcard (everything of the type). */
  names: string[];
  wildcard: boolean;
  sentVersion?: string;
  sentNonce?: string;
  sentAt?: string;
  ackedVersion?: string;
  ackedAt?: string;
  lastNack?: { version: string; nonce: string; message: string; at: string };
  pushes: number;
}

/** One connected stream. */
export interface StreamStatus {
  streamId: number;
  /** `sotw` (StreamAggregatedResources) or `delta` (DeltaAggregatedResources, incremental xDS). */
  mode: 'sotw' | 'delta';
  node: NodeInfo;
  connectedAt: string;
  types: Record<string, TypeSync>;
  /** Who the stream authenticated as and the certificate it was served (SDS); filled in by the server's status(). */
  identity?: StreamIdentity;
}

/** One proxy (node ID) and its streams. */
export interface ProxySync {
  id: string;
  kind: string;
  namespace?: string;
  pod?: string;
  connected: boolean;
  streams: StreamStatus[];
  snapshotVersion?: string;
  /** The Gateway (in `namespace`) a gateway proxy serves. */
  gateway?: string;
  /** The identity of the newest stream (SDS), and the certificate it holds, if any. */
  identity?: StreamIdentity;
  certificate?: ServedCertificate;
}

/** The whole /debug/syncz document of one controller replica. */
export interface Syncz {
  generation: number;
  ready: boolean;
  lastError?: string;
  proxies: ProxySync[];
}

/** What /debug/config_dump?proxy=ID returns: resources by type URL, secrets redacted by the controller. */
export interface ConfigDump {
  id: string;
  snapshotVersion?: string;
  types: Record<string, { version?: string; resources: Record<string, unknown>[] }>;
}

/** The controller's state that /debug/syncz shows. */
export interface SynczState {
  generation: number;
  ready: boolean;
  lastError?: string;
  /** Known proxies by key (any order): the node ID, or the ID and a token digest (see AdsServer's cacheKey). */
  nodes: Iterable<[string, NodeInfo]>;
  /** The key a stream's proxy is kept under (default: its node ID). */
  keyOf?(stream: StreamStatus): string;
  /** Every connected stream (copies: the document keeps them). */
  streams: readonly StreamStatus[];
  /** The version of the snapshot a node holds. */
  snapshotVersion(id: string): string | undefined;
}

/**
 * Serialize the controller's state: proxies by key, each with its streams in connection order. Two
 * entries may share a node ID (a TLS stream with a token and a stream without it): each shows its
 * own streams, so one cannot overwrite the other's status.
 */
export function synczDocument(state: SynczState): Syncz {
  const byNode = new Map<string, StreamStatus[]>();
  for (const s of state.streams) {
    const key = state.keyOf?.(s) ?? s.node.id;
    const list = byNode.get(key);
    if (list) list.push(s);
    else byNode.set(key, [s]);
  }
  const proxies: ProxySync[] = [...state.nodes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, node]) => {
    const mine = byNode.get(key) ?? [];
    const p: ProxySync = { id: node.id, kind: node.kind, connected: mine.length > 0, streams: mine, snapshotVersion: state.snapshotVersion(key) };
    if (node.namespace) p.namespace = node.namespace;
    if (node.pod) p.pod = node.pod;
    if (node.gateway) p.gateway = node.gateway;
    const newest = mine[mine.length - 1];
    if (newest?.identity) {
      p.identity = newest.identity;
      if (newest.identity.certificate) p.certificate = newest.identity.certificate;
    }
    return p;
  });
  const out: Syncz = { generation: state.generation, ready: state.ready, proxies };
  if (state.lastError) out.lastError = state.lastError;
  return out;
}

/**
 * Read a /debug/syncz answer. Throws when it is not JSON or has no `proxies` list; fields inside
 * are taken as sent (readers of older or newer controllers must tolerate missing ones).
 */
export function parseSyncz(text: string): Syncz {
  const doc: unknown = JSON.parse(text);
  if (!isObject(doc) || !Array.isArray(doc.proxies)) throw new Error('not a /debug/syncz document (no "proxies")');
  return doc as unknown as Syncz;
}

/** Sync state of one xDS type on one proxy. */
export type TypeState = 'SYNCED' | 'STALE' | 'NACKED' | 'NOT SENT' | '-';

/**
 * SYNCED: the last version sent was ACKed. NACKED: the last push was rejected (the proxy keeps its
 * previous config). STALE: sent and not yet answered. NOT SENT: subscribed, nothing sent yet.
 * "-": the proxy did not subscribe to the type (a gRPC client without SDS, say).
 */
export function typeState(t: TypeSync | undefined): TypeState {
  if (!t) return '-';
  if (t.lastNack && (t.sentNonce === undefined || t.lastNack.nonce === t.sentNonce)) return 'NACKED';
  if (t.sentVersion === undefined) return 'NOT SENT';
  return t.ackedVersion === t.sentVersion ? 'SYNCED' : 'STALE';
}

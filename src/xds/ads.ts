import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { envoyRoot, TYPE } from './protos.js';
import type { SecretProvider, SecretSet, StreamIdentity, StreamSecrets } from './secrets.js';
import type { Snapshot, SnapshotCache, SnapshotResource, TypeResources } from './snapshot.js';
import type { ProxyInfo } from './translate.js';

/** The xDS node a proxy identifies itself with (first request of a stream). */
export interface NodeInfo extends ProxyInfo {
  userAgent?: string;
}

/** A decoded DiscoveryRequest (the fields we use). */
export interface DiscoveryRequest {
  version_info?: string;
  node?: { id?: string; cluster?: string; user_agent_name?: string; metadata?: { fields?: Record<string, StructValue> } };
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
  error_detail?: { code?: number; message?: string };
}

/** A DiscoveryResponse ready to encode. */
export interface DiscoveryResponse {
  version_info: string;
  resources: { type_url: string; value: Uint8Array }[];
  type_url: string;
  nonce: string;
  control_plane: { identifier: string };
}

/** Per-type state of one stream, as /debug/syncz shows it. */
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

/** One connected stream, as /debug/syncz shows it. */
export interface StreamStatus {
  streamId: number;
  node: NodeInfo;
  connectedAt: string;
  types: Record<string, TypeSync>;
  /** Who the stream authenticated as and the certificate it was served (SDS); filled in by status(). */
  identity?: StreamIdentity;
}

/** Events the server emits (for metrics and logs). */
export interface AdsEvents {
  connect: [StreamStatus];
  disconnect: [StreamStatus];
  /** latencyMs: from the source change behind the snapshot; absent for per-stream SDS pushes (no source change). */
  push: [{ stream: StreamStatus; typeUrl: string; version: string; bytes: number; latencyMs?: number }];
  ack: [{ stream: StreamStatus; typeUrl: string; version: string }];
  nack: [{ stream: StreamStatus; typeUrl: string; version: string; message: string }];
}

const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

/** A google.protobuf.Value; protobufjs's built-in Struct spells its fields in camelCase even with keepCase. */
type StructValue = { string_value?: string; stringValue?: string };

function str(fields: Record<string, StructValue> | undefined, key: string): string | undefined {
  const v = fields?.[key]?.stringValue ?? fields?.[key]?.string_value;
  return v ? v : undefined;
}

/**
 * Who a node is. Metadata wins (`NAMESPACE`, `POD_NAME`, `PROXY_KIND` = sidecar|grpc, as our
 * bootstrap and injector write them); otherwise an Istio-style ID `sidecar~IP~POD.NS~...`; the
 * kind defaults to proxyless gRPC for gRPC user agents and sidecar for Envoy.
 */
export function parseNode(node: DiscoveryRequest['node']): NodeInfo {
  const id = node?.id ?? '';
  const f = node?.metadata?.fields;
  const parts = id.split('~');
  let namespace = str(f, 'NAMESPACE');
  let pod = str(f, 'POD_NAME');
  if (parts.length >= 3) {
    const [podName, ns] = (parts[2] ?? '').split('.');
    pod ??= podName || undefined;
    namespace ??= ns || undefined;
  }
  const ua = node?.user_agent_name;
  const declared = str(f, 'PROXY_KIND');
  const kind = declared === 'sidecar' || declared === 'grpc' ? declared : parts[0] === 'sidecar' || ua === 'envoy' ? 'sidecar' : 'grpc';
  const info: NodeInfo = { id, kind };
  if (namespace) info.namespace = namespace;
  if (pod) info.pod = pod;
  if (ua) info.userAgent = ua;
  return info;
}

let isoMs = 0;
let isoText = '';
/** The current time as ISO text, formatted once per millisecond: a push or an ACK storm to 1,000 streams stamps each. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

function sameResource(a: SnapshotResource | undefined, b: SnapshotResource | undefined): boolean {
  if (a === b || a?.any === b?.any) return true;
  if (!a || !b) return false;
  return Buffer.compare(a.any.value, b.any.value) === 0;
}

/**
 * Whether a stream must get a type again: its version moved and, unless the stream is a wildcard,
 * a resource it subscribed to changed (appeared, went, or has other bytes). SotW responses carry
 * only the subscribed resources, so a proxy that asked for other names than those that changed is
 * left alone (it keeps the version it holds; the next response it gets carries the newer one).
 * `sent` is the type set of the last response on this stream, undefined before the first.
 */
export function needsPush(sent: TypeResources | undefined, next: TypeResources | undefined, st: TypeSync): boolean {
  if (!next || next === sent || next.version === st.sentVersion) return false;
  if (!sent || st.wildcard) return true;
  return st.names.some((n) => !sameResource(sent.resources.get(n), next.resources.get(n)));
}

/** End a stream with a gRPC status (grpc-js sends the status of an 'error' emitted on a server stream). */
function fail(call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>, code: number, details: string): void {
  call.emit('error', Object.assign(new Error(details), { code, details }));
}

/** Options of {@link AdsServer}. */
export interface AdsServerOptions {
  cache: SnapshotCache;
  /** Called when a stream has identified its node and before the server reads its snapshot, so the controller can build one. */
  onNode?: (node: NodeInfo) => void;
  /** Reported in every response's control_plane.identifier. */
  identifier?: string;
  /** Issues each stream's SDS Secrets; without it no stream gets secrets (and syncz says so). */
  secrets?: SecretProvider;
}

/** Options of {@link AdsServer.handlers}: what the gRPC server the handlers are added to is. */
export interface AdsHandlerOptions {
  /**
   * `tls` for a server created with ServerCredentials.createSsl. grpc-js reports TLS in
   * getAuthContext() only when the client presented a verified certificate, and Envoy presents a
   * bearer token instead, so the server must say it. Default `plaintext`: no key material is sent.
   */
  transport?: 'tls' | 'plaintext';
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const NO_SDS: StreamIdentity = { authenticated: false, transport: 'plaintext', reason: 'SDS is not enabled on this control plane (no CA)' };

/**
 * The state-of-the-world Aggregated Discovery Service. It only reads snapshots from the cache
 * (never builds config): on each request it records ACK/NACK by nonce, updates the type's
 * subscription, and sends the type when the snapshot version or the subscription changed; on a
 * snapshot change it pushes every subscribed type whose resources for this stream changed
 * (needsPush). A NACK is recorded and the proxy keeps its last good config; we do not resend
 * until the snapshot changes.
 */
export class AdsServer extends EventEmitter<AdsEvents> {
  private readonly cache: SnapshotCache;
  private readonly onNode: ((node: NodeInfo) => void) | undefined;
  private readonly identifier: string;
  private readonly secrets: SecretProvider | undefined;
  private readonly streams = new Map<number, StreamStatus>();
  private readonly sessions = new Map<number, StreamSecrets>();
  private nextStream = 1;
  private nonce = 0;
  private readonly reqType: protobuf.Type;
  private readonly resType: protobuf.Type;

  constructor(opts: AdsServerOptions) {
    super();
    this.cache = opts.cache;
    this.onNode = opts.onNode;
    this.identifier = opts.identifier ?? 'mesh-controller';
    this.secrets = opts.secrets;
    this.reqType = envoyRoot().lookupType('envoy.service.discovery.v3.DiscoveryRequest');
    this.resType = envoyRoot().lookupType('envoy.service.discovery.v3.DiscoveryResponse');
  }

  /** The grpc-js service definition to pass to `server.addService`. */
  serviceDefinition(): grpc.ServiceDefinition {
    return {
      StreamAggregatedResources: {
        path: ADS_PATH,
        requestStream: true,
        responseStream: true,
        requestSerialize: (m: DiscoveryRequest) => Buffer.from(this.reqType.encode(this.reqType.fromObject(m)).finish()),
        requestDeserialize: (b: Buffer) => this.reqType.toObject(this.reqType.decode(b), { defaults: false, arrays: true }) as DiscoveryRequest,
        responseSerialize: (m: DiscoveryResponse) => Buffer.from(this.resType.encode(this.resType.create(m)).finish()),
        responseDeserialize: (b: Buffer) => this.resType.toObject(this.resType.decode(b), { arrays: true }) as DiscoveryResponse,
        originalName: 'streamAggregatedResources',
      },
    } as grpc.ServiceDefinition;
  }

  /**
   * Implementation map for `server.addService`. Call it once per gRPC server (plaintext and TLS
   * ports may serve the same AdsServer: streams, snapshots and secrets are shared).
   */
  handlers(opts: AdsHandlerOptions = {}): grpc.UntypedServiceImplementation {
    const transport = opts.transport ?? 'plaintext';
    return { StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => this.handle(call, transport) };
  }

  /** Connected streams (copies of their state, with each stream's identity; never a token or key). */
  status(): StreamStatus[] {
    return [...this.streams.values()].map((s) => {
      const copy = structuredClone(s);
      const session = this.sessions.get(s.streamId);
      copy.identity = session ? session.identity() : { ...NO_SDS, transport: s.identity?.transport ?? 'plaintext' };
      return copy;
    });
  }

  /** The Secrets most recently served to a node's newest stream (config_dump form: keys redacted), or undefined. */
  secretsOf(nodeId: string): SecretSet | undefined {
    let newest: SecretSet | undefined;
    for (const s of this.streams.values()) {
      if (s.node.id !== nodeId) continue;
      const cur = this.sessions.get(s.streamId)?.current();
      if (cur) newest = cur;
    }
    return newest;
  }

  private handle(call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>, declared: 'tls' | 'plaintext'): void {
    let status: StreamStatus | undefined;
    let session: StreamSecrets | undefined;
    let unwatch: (() => void) | undefined;
    let closed = false;
    // Read once at stream start and handed to the secret provider only: never stored in status or logged.
    const auth = call.metadata.get('authorization')[0];
    const token = typeof auth === 'string' ? BEARER.exec(auth)?.[1] : undefined;
    const transport = declared === 'tls' || call.getAuthContext?.()?.transportSecurityType === 'ssl' ? 'tls' : 'plaintext';
    /** Per type, the set the last response was cut from (what the proxy holds, if it acked). */
    const sentSets = new Map<string, TypeResources>();
    const close = (): void => {
      if (closed) return;
      closed = true;
      unwatch?.();
      session?.close();
      if (status) {
        this.streams.delete(status.streamId);
        this.sessions.delete(status.streamId);
        this.emit('disconnect', status);
      }
    };

    /** What the stream would get of a type now: secrets from the stream's own session, the rest from the snapshot. */
    const view = (snap: Snapshot | undefined, typeUrl: string): { version: string; resources: ReadonlyMap<string, SnapshotResource> } | undefined => {
      if (typeUrl === TYPE.secret && session) return session.current();
      return snap?.types[typeUrl as keyof Snapshot['types']];
    };

    const send = (snap: Snapshot | undefined, typeUrl: string, st: TypeSync): void => {
      const t = view(snap, typeUrl);
      if (!t || !status || closed) return;
      const resources = st.wildcard ? [...t.resources.values()] : st.names.flatMap((n) => {
        const r = t.resources.get(n);
        return r ? [r] : [];
      });
      const nonce = String(++this.nonce);
      const res: DiscoveryResponse = {
        version_info: t.version,
        resources: resources.map((r) => r.any),
        type_url: typeUrl,
        nonce,
        control_plane: { identifier: this.identifier },
      };
      sentSets.set(typeUrl, t);
      st.sentVersion = t.version;
      st.sentNonce = nonce;
      st.sentAt = isoNow();
      st.pushes++;
      call.write(res);
      const bytes = resources.reduce((n, r) => n + r.any.value.length, 0);
      this.emit('push', { stream: status, typeUrl, version: t.version, bytes, latencyMs: snap && typeUrl !== TYPE.secret ? Date.now() - snap.changedAt : undefined });
    };

    call.on('data', (req: DiscoveryRequest) => {
      if (closed) return;
      try {
        if (!status) {
          const node = parseNode(req.node);
          if (!node.id) {
            fail(call, 3, 'the first DiscoveryRequest of a stream must carry node.id');
            return;
          }
          status = { streamId: this.nextStream++, node, connectedAt: new Date().toISOString(), types: {}, identity: { ...NO_SDS, transport } };
          this.streams.set(status.streamId, status);
          const s = status;
          if (this.secrets) {
            session = this.secrets.open({
              streamId: s.streamId,
              node,
              token,
              transport,
              onChange: () => {
                const st = s.types[TYPE.secret];
                const cur = session?.current();
                if (st && cur && cur.version !== st.sentVersion) send(this.cache.get(node.id), TYPE.secret, st);
              },
            });
            this.sessions.set(s.streamId, session);
          }
          this.onNode?.(node);
          unwatch = this.cache.watch(node.id, (snap) => {
            for (const [typeUrl, st] of Object.entries(s.types)) {
              if (typeUrl === TYPE.secret && session) continue; // the session pushes its own changes
              if (needsPush(sentSets.get(typeUrl), snap.types[typeUrl as keyof Snapshot['types']], st)) send(snap, typeUrl, st);
            }
          });
          this.emit('connect', status);
        }
        const typeUrl = req.type_url ?? '';
        if (!typeUrl) return;
        let st = status.types[typeUrl];
        const names = [...(req.resource_names ?? [])].sort();
        const nonce = req.response_nonce ?? '';
        if (st && nonce && nonce !== st.sentNonce) return; // stale: answers a response we have since replaced
        const isNew = !st;
        if (!st) status.types[typeUrl] = st = { names, wildcard: names.length === 0 || names.includes('*'), pushes: 0 };
        if (nonce) {
          if (req.error_detail && (req.error_detail.message || req.error_detail.code)) {
            st.lastNack = { version: st.sentVersion ?? '', nonce, message: req.error_detail.message ?? `code ${req.error_detail.code}`, at: new Date().toISOString() };
            this.emit('nack', { stream: status, typeUrl, version: st.sentVersion ?? '', message: st.lastNack.message });
          } else {
            st.ackedVersion = req.version_info ?? '';
            st.ackedAt = isoNow();
            this.emit('ack', { stream: status, typeUrl, version: st.ackedVersion });
          }
        }
        const changedNames = names.join('\n') !== st.names.join('\n');
        st.names = names;
        // Legacy wildcard: only a first request with no names; later an empty list unsubscribes everything.
        st.wildcard = names.includes('*') || (names.length === 0 && (isNew || st.wildcard));
        if (typeUrl === TYPE.secret) session?.want();
        const snap = this.cache.get(status.node.id);
        const t = view(snap, typeUrl);
        if (!t) return; // the watch (or the secret session) sends once there is something
        // A reconnecting proxy sends the version it holds and no nonce: it still needs a response with a fresh nonce.
        if (isNew || changedNames || !nonce || needsPush(sentSets.get(typeUrl), t, st)) send(snap, typeUrl, st);
      } catch (err) {
        fail(call, 13, `control plane error: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('error', close);
    call.on('close', close);
    call.on('cancelled', close);
  }
}

import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { envoyRoot, TYPE } from './protos.js';
import type { ConfigCache } from './cache.js';
import type { SecretProvider, SecretSet, StreamIdentity, StreamSecrets } from './secrets.js';
import type { Snapshot, SnapshotResource } from './snapshot.js';
import { nackMessage, type ErrorDetail, type RequestNode, type StreamContext, type StreamProtocol, type StructValue, type TypeView } from './stream.js';
import type { NodeInfo, StreamStatus, TypeSync } from './syncz.js';
import { Admission, type AdmissionTicket } from './admission.js';
import { encodeDeltaResponse, encodeSotwResponse } from './wire.js';
import { deltaProtocol, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse } from './delta.js';

export type { DeltaDiscoveryRequest, DeltaDiscoveryResponse } from './delta.js';
export type { StreamContext, StreamProtocol, TypeView } from './stream.js';
export type { NodeInfo, StreamStatus, TypeSync } from './syncz.js';
export { nackMessage } from './stream.js';

/** A decoded DiscoveryRequest (the fields we use). */
export interface DiscoveryRequest {
  version_info?: string;
  node?: RequestNode;
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
  error_detail?: ErrorDetail;
}

/** A DiscoveryResponse ready to encode. */
export interface DiscoveryResponse {
  version_info: string;
  resources: { type_url: string; value: Uint8Array }[];
  type_url: string;
  nonce: string;
  control_plane: { identifier: string };
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

const ADS_SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService';

function str(fields: Record<string, StructValue> | undefined, key: string): string | undefined {
  const v = fields?.[key]?.stringValue ?? fields?.[key]?.string_value;
  return v ? v : undefined;
}

/**
 * Who a node is. Metadata wins (`NAMESPACE`, `POD_NAME`, `PROXY_KIND` = sidecar|grpc|gateway, as
 * our bootstrap and injector write them; a gateway also names its Gateway in `GATEWAY_NAME`, in
 * its NAMESPACE); otherwise an Istio-style ID `sidecar~IP~POD.NS~...`; the
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
  const kind = declared === 'sidecar' || declared === 'grpc' || declared === 'gateway' ? declared : parts[0] === 'sidecar' || ua === 'envoy' ? 'sidecar' : 'grpc';
  const info: NodeInfo = { id, kind };
  if (namespace) info.namespace = namespace;
  if (pod) info.pod = pod;
  const gateway = kind === 'gateway' ? str(f, 'GATEWAY_NAME') : undefined;
  if (gateway) info.gateway = gateway;
  if (ua) info.userAgent = ua;
  const sv = node?.user_agent_build_version?.version;
  const version = node?.user_agent_version || (sv ? `${sv.major_number ?? 0}.${sv.minor_number ?? 0}.${sv.patch ?? 0}` : undefined);
  // A client names its own version: keep it short, it ends up in logs and metric labels.
  if (version) info.version = version.slice(0, 32);
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
export function needsPush(sent: TypeView | undefined, next: TypeView | undefined, st: TypeSync): boolean {
  if (!next || next === sent || next.version === st.sentVersion) return false;
  if (!sent || st.wildcard) return true;
  return st.names.some((n) => !sameResource(sent.resources.get(n), next.resources.get(n)));
}

/** End a stream with a gRPC status (grpc-js sends the status of an 'error' emitted on a server stream). */
function fail(call: grpc.ServerDuplexStream<unknown, unknown>, code: number, details: string): void {
  call.emit('error', Object.assign(new Error(details), { code, details }));
}

/**
 * State of the world: per type, the subscribed names; a response carries every subscribed resource
 * (all of the type for a wildcard) with the type's version. See AdsServer for the rules.
 */
function sotwProtocol(ctx: StreamContext, write: (res: DiscoveryResponse) => void): StreamProtocol<DiscoveryRequest> {
  const { status } = ctx;
  /** Per type, the set the last response was cut from (what the proxy holds, if it acked). */
  const sentSets = new Map<string, TypeView>();
  /** Per type, the nonce last ACKed or NACKed: a repeat of it records nothing again. */
  const settled = new Map<string, string>();
  /**
   * Per type, when the oldest source change held back behind an unanswered response was seen
   * (see `snapshot` below): the response that finally carries it reports its latency from there.
   */
  const heldSince = new Map<string, number>();

  const send = (snap: Snapshot | undefined, typeUrl: string, st: TypeSync): void => {
    const t = ctx.view(snap, typeUrl);
    if (!t || ctx.closed()) return;
    const resources = st.wildcard ? [...t.resources.values()] : st.names.flatMap((n) => {
      const r = t.resources.get(n);
      return r ? [r] : [];
    });
    const nonce = ctx.nonce();
    sentSets.set(typeUrl, t);
    write({ version_info: t.version, resources: resources.map((r) => r.any), type_url: typeUrl, nonce, control_plane: { identifier: ctx.identifier } });
    ctx.sent(typeUrl, st, t.version, nonce, resources.reduce((n, r) => n + r.any.value.length, 0), snap, heldSince.get(typeUrl));
    heldSince.delete(typeUrl);
  };

  return {
    request(req) {
      const typeUrl = req.type_url ?? '';
      if (!typeUrl) return;
      // Own keys only: a type URL such as "toString" names nothing a stream subscribed to.
      let st = Object.hasOwn(status.types, typeUrl) ? status.types[typeUrl] : undefined;
      const names = [...(req.resource_names ?? [])].sort();
      const nonce = req.response_nonce ?? '';
      if (st && nonce && nonce !== st.sentNonce) return; // stale: answers a response we have since replaced
      const isNew = !st;
      if (!st) status.types[typeUrl] = st = { names, wildcard: names.length === 0 || names.includes('*'), pushes: 0 };
      if (nonce && settled.get(typeUrl) !== nonce) {
        settled.set(typeUrl, nonce);
        const nack = nackMessage(req.error_detail);
        if (nack !== undefined) ctx.nack(typeUrl, st, st.sentVersion ?? '', nonce, nack);
        else ctx.ack(typeUrl, st, req.version_info ?? '');
      }
      const changedNames = names.join('\n') !== st.names.join('\n');
      st.names = names;
      // Legacy wildcard: only a first request with no names; later an empty list unsubscribes everything.
      st.wildcard = names.includes('*') || (names.length === 0 && (isNew || st.wildcard));
      if (typeUrl === TYPE.secret) ctx.wantSecrets();
      const snap = ctx.snapshot();
      const t = ctx.view(snap, typeUrl);
      if (!t) return; // the watch (or the secret session) sends once there is something
      // A reconnecting proxy sends the version it holds and no nonce: it still needs a response with a fresh nonce.
      if (isNew || changedNames || !nonce || needsPush(sentSets.get(typeUrl), t, st)) send(snap, typeUrl, st);
    },
    snapshot(snap) {
      for (const [typeUrl, st] of Object.entries(status.types)) {
        if (ctx.ownSecrets(typeUrl)) continue; // the session pushes its own changes
        if (!needsPush(sentSets.get(typeUrl), ctx.view(snap, typeUrl), st)) continue;
        // At most one response of a type in flight: while the last one is unanswered, changes wait
        // for its ACK or NACK, whose request sends the then current set (needsPush above), so a
        // burst of changes faster than the proxy answers becomes one response carrying them all.
        if (st.sentNonce !== undefined && settled.get(typeUrl) !== st.sentNonce) {
          if (!heldSince.has(typeUrl)) heldSince.set(typeUrl, snap.changedAt);
          continue;
        }
        send(snap, typeUrl, st);
      }
    },
    secretsChanged() {
      const st = status.types[TYPE.secret];
      const cur = ctx.view(undefined, TYPE.secret);
      if (st && cur && cur.version !== st.sentVersion) send(ctx.snapshot(), TYPE.secret, st);
    },
  };
}

/** Options of {@link AdsServer}. */
export interface AdsServerOptions {
  /** Where snapshots are read and watched; the server never writes it. */
  cache: ConfigCache;
  /**
   * Called when a stream has identified its node and before the server reads its snapshot, so the
   * controller can build one; `key` is the stream's cache key (see cacheKey).
   */
  onNode?: (node: NodeInfo, key: string) => void;
  /** Reported in every response's control_plane.identifier. */
  identifier?: string;
  /** Issues each stream's SDS Secrets; without it no stream gets secrets (and syncz says so). */
  secrets?: SecretProvider;
  /** Per-stream caps (see AdsLimits). */
  limits?: AdsLimits;
}

/**
 * What one stream may ask for. A stream over a cap is closed with a status that names it: a type
 * URL past maxTypes with RESOURCE_EXHAUSTED, more than maxNames resource names of one type with
 * RESOURCE_EXHAUSTED. Envoy asks for 6 types and at most one name per cluster or listener.
 */
export interface AdsLimits {
  /** Distinct type URLs per stream (default 32). */
  maxTypes?: number;
  /** Subscribed resource names per type on one stream (default 20,000). */
  maxNames?: number;
  /**
   * Streams opening at once, server-wide (default 100): later ones wait, in arrival order, until
   * an opening stream answers its first response, closes, or has held its slot `openHoldMs`
   * (default 5 s). See src/xds/admission.ts.
   */
  maxOpening?: number;
  openHoldMs?: number;
}

/** Default caps of AdsLimits. */
export const ADS_LIMITS: Required<AdsLimits> = { maxTypes: 32, maxNames: 20_000, maxOpening: 100, openHoldMs: 5_000 };

/** Why a request would take its stream over a cap, or undefined. */
function overLimit(req: { type_url?: string; resource_names?: string[]; resource_names_subscribe?: string[] }, status: StreamStatus, limits: Required<AdsLimits>): string | undefined {
  const typeUrl = req.type_url ?? '';
  const st = status.types[typeUrl];
  if (typeUrl && !st && Object.keys(status.types).length >= limits.maxTypes) {
    return `a stream may subscribe to at most ${limits.maxTypes} type URLs; ${typeUrl} would be type ${Object.keys(status.types).length + 1}`;
  }
  const names = req.resource_names ? req.resource_names.length : (st?.names.length ?? 0) + (req.resource_names_subscribe?.length ?? 0);
  if (names > limits.maxNames) return `a stream may subscribe to at most ${limits.maxNames} resource names of one type; ${typeUrl} would have ${names}`;
  return undefined;
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

/**
 * The key a stream's snapshot and status are kept under. A node id is only a claim: a stream on
 * the TLS port that presents a bearer token is keyed by the id and a digest of that token, so a
 * stream without that very token (any plaintext stream, another token) can never share, overwrite
 * or steer its entry; other streams are keyed by the bare id. The digest is never shown.
 */
export function cacheKey(nodeId: string, transport: 'tls' | 'plaintext', token: string | undefined): string {
  if (transport !== 'tls' || !token) return nodeId;
  return `${nodeId}|${createHash('sha256').update(token).digest('base64url').slice(0, 22)}`;
}
const NO_SDS: StreamIdentity = { authenticated: false, transport: 'plaintext', reason: 'SDS is not enabled on this control plane (no CA)' };

/**
 * The Aggregated Discovery Service, state of the world (StreamAggregatedResources) and incremental
 * (DeltaAggregatedResources, src/xds/delta.ts). It only reads snapshots from the cache (never
 * builds config). Both modes share how a stream opens (node, identity and SDS session, watch),
 * closes, and records pushes, ACKs and NACKs (syncz and metrics events).
 *
 * SotW: on each request it records ACK/NACK by nonce, updates the type's subscription, and sends
 * the type when the snapshot version or the subscription changed; on a snapshot change it pushes
 * every subscribed type whose resources for this stream changed (needsPush). A NACK is recorded
 * and the proxy keeps its last good config; we do not resend until the snapshot changes.
 */
export class AdsServer extends EventEmitter<AdsEvents> {
  private readonly cache: ConfigCache;
  private readonly onNode: ((node: NodeInfo, key: string) => void) | undefined;
  /** Cache key of each open stream (kept until its 'disconnect' has been emitted). */
  private readonly keys = new Map<number, string>();
  private readonly identifier: string;
  private readonly secrets: SecretProvider | undefined;
  private readonly limits: Required<AdsLimits>;
  /** Streams opening at once (limits.maxOpening), admitted in arrival order. */
  readonly admission: Admission;
  private readonly streams = new Map<number, StreamStatus>();
  private readonly sessions = new Map<number, StreamSecrets>();
  private nextStream = 1;
  private lastNonce = 0;
  private readonly types: Record<'req' | 'res' | 'deltaReq' | 'deltaRes', protobuf.Type>;

  constructor(opts: AdsServerOptions) {
    super();
    this.cache = opts.cache;
    this.onNode = opts.onNode;
    this.identifier = opts.identifier ?? 'mesh-controller';
    this.secrets = opts.secrets;
    this.limits = { ...ADS_LIMITS, ...opts.limits };
    this.admission = new Admission(this.limits.maxOpening, this.limits.openHoldMs);
    const t = (name: string): protobuf.Type => envoyRoot().lookupType(`envoy.service.discovery.v3.${name}`);
    this.types = { req: t('DiscoveryRequest'), res: t('DiscoveryResponse'), deltaReq: t('DeltaDiscoveryRequest'), deltaRes: t('DeltaDiscoveryResponse') };
  }

  /** The grpc-js service definition to pass to `server.addService` (both methods). */
  serviceDefinition(): grpc.ServiceDefinition {
    const method = (name: string, req: protobuf.Type, res: protobuf.Type, encode: (m: never) => Buffer): grpc.MethodDefinition<unknown, unknown> => ({
      path: `${ADS_SERVICE}/${name}`,
      requestStream: true,
      responseStream: true,
      requestSerialize: (m: unknown) => Buffer.from(req.encode(req.fromObject(m as Record<string, unknown>)).finish()),
      requestDeserialize: (b: Buffer) => req.toObject(req.decode(b), { defaults: false, arrays: true }),
      // Written from per-resource encodings shared by every stream (wire.ts), not encoded per stream.
      responseSerialize: (m: unknown) => encode(m as never),
      responseDeserialize: (b: Buffer) => res.toObject(res.decode(b), { arrays: true }),
      originalName: name.charAt(0).toLowerCase() + name.slice(1),
    });
    return {
      StreamAggregatedResources: method('StreamAggregatedResources', this.types.req, this.types.res, encodeSotwResponse),
      DeltaAggregatedResources: method('DeltaAggregatedResources', this.types.deltaReq, this.types.deltaRes, encodeDeltaResponse),
    };
  }

  /**
   * Implementation map for `server.addService`. Call it once per gRPC server (plaintext and TLS
   * ports may serve the same AdsServer: streams, snapshots and secrets are shared).
   */
  handlers(opts: AdsHandlerOptions = {}): grpc.UntypedServiceImplementation {
    const transport = opts.transport ?? 'plaintext';
    return {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => this.serve(call, transport, 'sotw', sotwProtocol),
      DeltaAggregatedResources: (call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>) => this.serve(call, transport, 'delta', deltaProtocol),
    };
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

  /** The cache key of an open stream (see cacheKey), or undefined once it has closed. */
  keyOf(streamId: number): string | undefined {
    return this.keys.get(streamId);
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

  /**
   * One stream of either mode: the first request names the node (refused without node.id), which
   * registers the stream, opens its SDS session (the bearer token and transport are read here,
   * once), lets the controller build the node's snapshot and watches it; every request then goes
   * to the mode's protocol. Any error ends the stream with INTERNAL.
   */
  private serve<Req extends { node?: DiscoveryRequest['node'] }, Res>(
    call: grpc.ServerDuplexStream<Req, Res>,
    declared: 'tls' | 'plaintext',
    mode: StreamStatus['mode'],
    protocol: (ctx: StreamContext, write: (res: Res) => void) => StreamProtocol<Req>,
  ): void {
    let status: StreamStatus | undefined;
    let session: StreamSecrets | undefined;
    let proto: StreamProtocol<Req> | undefined;
    let unwatch: (() => void) | undefined;
    let closed = false;
    // Read once at stream start and handed to the secret provider only: never stored in status or logged.
    const auth = call.metadata.get('authorization')[0];
    const token = typeof auth === 'string' ? BEARER.exec(auth)?.[1] : undefined;
    const transport = declared === 'tls' || call.getAuthContext?.()?.transportSecurityType === 'ssl' ? 'tls' : 'plaintext';
    const close = (): void => {
      if (closed) return;
      closed = true;
      ticket.release();
      unwatch?.();
      session?.close();
      if (status) {
        this.streams.delete(status.streamId);
        this.sessions.delete(status.streamId);
        this.emit('disconnect', status);
        this.keys.delete(status.streamId);
      }
    };
    const open = (req: Req): StreamProtocol<Req> | undefined => {
      const node = parseNode(req.node);
      if (!node.id) {
        fail(call as grpc.ServerDuplexStream<unknown, unknown>, 3, `the first ${mode === 'delta' ? 'DeltaDiscoveryRequest' : 'DiscoveryRequest'} of a stream must carry node.id`);
        return undefined;
      }
      const s: StreamStatus = { streamId: this.nextStream++, mode, node, connectedAt: new Date().toISOString(), types: {}, identity: { ...NO_SDS, transport } };
      status = s;
      this.streams.set(s.streamId, s);
      const p = protocol(this.context(s, () => session, () => closed, () => ticket.release()), (res) => call.write(res));
      if (this.secrets) {
        session = this.secrets.open({ streamId: s.streamId, node, token, transport, onChange: () => p.secretsChanged() });
        this.sessions.set(s.streamId, session);
      }
      const key = cacheKey(node.id, transport, token);
      this.keys.set(s.streamId, key);
      this.onNode?.(node, key);
      unwatch = this.cache.watch(key, (snap) => p.snapshot(snap));
      this.emit('connect', s);
      return p;
    };

    const onData = (req: Req): void => {
      if (closed) return;
      try {
        proto ??= open(req);
        if (!proto || !status) return;
        const over = overLimit(req as Parameters<typeof overLimit>[0], status, this.limits);
        if (over) {
          fail(call as grpc.ServerDuplexStream<unknown, unknown>, 8, over);
          return;
        }
        proto.request(req);
      } catch (err) {
        fail(call as grpc.ServerDuplexStream<unknown, unknown>, 13, `control plane error: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    // Requests are read once the stream is admitted; until then grpc-js holds them.
    const ticket: AdmissionTicket = this.admission.enter(() => {
      if (!closed) call.on('data', onData);
    });
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('error', close);
    call.on('close', close);
    call.on('cancelled', close);
  }

  /** The shared bookkeeping of one stream (see StreamContext). */
  private context(status: StreamStatus, session: () => StreamSecrets | undefined, closed: () => boolean, answered: () => void): StreamContext {
    // Looked up when used: the key is set once the stream's node is known, after this context is made.
    const key = (): string => this.keys.get(status.streamId) ?? status.node.id;
    return {
      status,
      identifier: this.identifier,
      closed,
      snapshot: () => this.cache.get(key()),
      view: (snap, typeUrl) => {
        const own = typeUrl === TYPE.secret ? session() : undefined;
        return own ? own.current() : snap && Object.hasOwn(snap.types, typeUrl) ? snap.types[typeUrl as keyof Snapshot['types']] : undefined;
      },
      ownSecrets: (typeUrl) => typeUrl === TYPE.secret && session() !== undefined,
      wantSecrets: () => session()?.want(),
      nonce: () => String(++this.lastNonce),
      sent: (typeUrl, st, version, nonce, bytes, snap, since) => {
        st.sentVersion = version;
        st.sentNonce = nonce;
        st.sentAt = isoNow();
        st.pushes++;
        this.emit('push', { stream: status, typeUrl, version, bytes, latencyMs: snap && typeUrl !== TYPE.secret ? Date.now() - Math.min(snap.changedAt, since ?? Infinity) : undefined });
      },
      ack: (typeUrl, st, version) => {
        answered();
        st.ackedVersion = version;
        st.ackedAt = isoNow();
        this.emit('ack', { stream: status, typeUrl, version });
      },
      nack: (typeUrl, st, version, nonce, message) => {
        answered();
        st.lastNack = { version, nonce, message, at: new Date().toISOString() };
        this.emit('nack', { stream: status, typeUrl, version, message });
      },
    };
  }
}

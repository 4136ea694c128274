// Real gRPC backends and real @grpc/grpc-js-xds clients for the xDS proof tests.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as xds from '@grpc/grpc-js-xds';
import { fileURLToPath } from 'node:url';
import type { KubeObject } from '../../src/cluster/types.ts';
import type { ControlPlane } from '../../src/controller/controlplane.ts';

xds.register();

const def = protoLoader.loadSync(fileURLToPath(new URL('../fixtures/xds/echo.proto', import.meta.url)), { keepCase: true });
const pkg = grpc.loadPackageDefinition(def) as any;
const EchoClient = pkg.meshtest.Echo as grpc.ServiceClientConstructor;

export interface Backend {
  name: string;
  port: number;
  calls: number;
  /** 'ok' answers; 'flaky' fails the first attempt of every call with UNAVAILABLE (retries succeed); 'down' always fails; 'hold' answers only on release(). */
  mode: 'ok' | 'flaky' | 'down' | 'hold';
  /** Calls a 'hold' backend is holding now. */
  held: number;
  /** Answer every held call. */
  release(): void;
  /** Resolves once the backend holds `n` calls (event-driven: checked as each call arrives). */
  holding(n: number): Promise<void>;
  stop(): Promise<void>;
}

/** A plain grpc-js server on 127.0.0.1 answering Who with its name. */
export async function startBackend(name: string, mode: Backend['mode'] = 'ok'): Promise<Backend> {
  const server = new grpc.Server();
  const waiting: (() => void)[] = [];
  const watchers: { n: number; resolve: () => void }[] = [];
  const b: Backend = {
    name, port: 0, calls: 0, mode, held: 0,
    release: () => {
      for (const answer of waiting.splice(0)) answer();
      b.held = 0;
    },
    holding: (n) => (b.held >= n ? Promise.resolve() : new Promise((resolve) => watchers.push({ n, resolve }))),
    stop: () => {
      b.release();
      return new Promise((r) => server.tryShutdown(() => r()));
    },
  };
  server.addService(pkg.meshtest.Echo.service, {
    Who: (call: grpc.ServerUnaryCall<{ delay_ms?: number }, unknown>, cb: grpc.sendUnaryData<{ name: string }>) => {
      b.calls++;
      // gRPC marks retried attempts with grpc-previous-rpc-attempts.
      const fail = b.mode === 'down' || (b.mode === 'flaky' && call.metadata.get('grpc-previous-rpc-attempts').length === 0);
      const answer = (): void => (fail ? cb({ code: grpc.status.UNAVAILABLE, details: `${name} is ${b.mode}` }) : cb(null, { name }));
      const d = call.request.delay_ms ?? 0;
      if (b.mode === 'hold') {
        waiting.push(answer);
        b.held = waiting.length;
        for (const w of watchers.filter((x) => b.held >= x.n)) {
          watchers.splice(watchers.indexOf(w), 1);
          w.resolve();
        }
      } else if (d > 0) setTimeout(answer, d);
      else answer();
    },
  });
  b.port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return b;
}

/** An xDS client channel configured only by our control plane (per-channel bootstrap: no global state). */
export function xdsClient(target: string, adsPort: number, nodeId: string, namespace: string): grpc.Client {
  const bootstrap = {
    xds_servers: [{ server_uri: `127.0.0.1:${adsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: nodeId, locality: {}, metadata: { NAMESPACE: namespace, PROXY_KIND: 'grpc' } },
  };
  return new EchoClient(`xds:///${target}`, grpc.credentials.createInsecure(), {
    'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap),
  });
}

export interface CallResult {
  name?: string;
  code: number;
}

/** One unary call; resolves with the backend name or the status code. */
export function who(client: grpc.Client, opts: { delayMs?: number; deadlineMs?: number; metadata?: Record<string, string> } = {}): Promise<CallResult> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(opts.metadata ?? {})) md.set(k, v);
  const callOpts: grpc.CallOptions = opts.deadlineMs ? { deadline: Date.now() + opts.deadlineMs } : {};
  return new Promise((resolve) => {
    (client as any).Who({ delay_ms: opts.delayMs ?? 0 }, md, callOpts, (err: grpc.ServiceError | null, reply?: { name: string }) => {
      resolve(err ? { code: err.code } : { name: reply!.name, code: 0 });
    });
  });
}

/** One Who call sent on another method path (`/pkg.Service/Method`) through the same channel; resolves with the status code. */
export function callPath(client: grpc.Client, path: string, metadata: Record<string, string> = {}): Promise<CallResult> {
  const def = pkg.meshtest.Echo.service.Who as grpc.MethodDefinition<{ delay_ms: number }, { name: string }>;
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, def.requestSerialize, def.responseDeserialize, { delay_ms: 0 }, md, (err, reply) => resolve(err ? { code: err.code } : { name: reply!.name, code: 0 }));
  });
}

/** `n` calls, `concurrency` at a time. */
export async function many(client: grpc.Client, n: number, opts: Parameters<typeof who>[1] = {}, concurrency = 50): Promise<CallResult[]> {
  const out: CallResult[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      out.push(await who(client, opts));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

/**
 * Calls in rounds of `batch` until a round satisfies `ok` (the client has switched to new config);
 * bounded, so a client that never follows fails the test.
 */
export async function until(client: grpc.Client, ok: (t: Record<string, number>) => boolean, batch = 50, rounds = 100): Promise<void> {
  let t: Record<string, number> = {};
  for (let i = 0; i < rounds; i++) {
    t = tally(await many(client, batch, {}, 10));
    if (ok(t)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the client never followed the new config; last round: ${JSON.stringify(t)}`);
}

/** Count results by backend name or `code N`. */
export function tally(results: CallResult[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const r of results) {
    const k = r.name ?? `code ${r.code}`;
    t[k] = (t[k] ?? 0) + 1;
  }
  return t;
}

/**
 * Resolves once the server has recorded an ACK (or NACK) of `typeUrl` from `nodeId`; set it up
 * before sending, so the wait is on the event, not on a pause a busy machine can outrun.
 */
export function recorded(cp: ControlPlane, event: 'ack' | 'nack', nodeId: string, typeUrl: string): Promise<void> {
  return new Promise((resolve) => {
    const seen = (e: { stream: { node: { id: string } }; typeUrl: string }): void => {
      if (e.stream.node.id !== nodeId || e.typeUrl !== typeUrl) return;
      cp.ads.off(event, seen);
      resolve();
    };
    cp.ads.on(event, seen);
  });
}

/** Wait until the node has ACKed every type whose current snapshot version differs from what it acked (the config is live in the client); event-driven, `timeoutMs` only bounds a hang. */
export function waitForAck(cp: ControlPlane, nodeId: string, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const synced = (): boolean => {
      const snap = cp.cache.get(nodeId);
      const streams = cp.ads.status().filter((s) => s.node.id === nodeId);
      if (!snap || !streams.length) return false;
      const types = Object.entries(streams[0]!.types);
      return types.length >= 4 && types.every(([t, st]) => st.ackedVersion === (snap.types as any)[t]?.version);
    };
    if (synced()) return resolve();
    const timer = setTimeout(() => {
      cp.ads.off('ack', check);
      reject(new Error(`node ${nodeId} did not ACK the current snapshot: ${JSON.stringify(cp.syncz().proxies.find((p) => p.id === nodeId))}`));
    }, timeoutMs);
    const check = (): void => {
      if (!synced()) return;
      clearTimeout(timer);
      cp.ads.off('ack', check);
      resolve();
    };
    cp.ads.on('ack', check);
  });
}

export const svc = (ns: string, name: string, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) },
  spec: { clusterIP: '10.96.0.1', selector: { app: name }, ports: [{ name: 'grpc', port: 8080, targetPort: 9090 }] },
});

/** One EndpointSlice per backend (each has its own port on 127.0.0.1). */
export const slices = (ns: string, service: string, backends: Backend[]): KubeObject[] =>
  backends.map((b, i) => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${service}-${i}`, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'grpc', port: b.port }],
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
  }));

export const route = (ns: string, parent: string, rules: unknown[], annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute',
  metadata: { name: parent, namespace: ns, ...(annotations ? { annotations } : {}) },
  spec: { parentRefs: [{ group: '', kind: 'Service', name: parent, port: 8080 }], rules },
});

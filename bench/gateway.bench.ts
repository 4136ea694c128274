// Issue 17's gateway benchmark: one ingress Gateway with 1,000 HTTPRoutes of 10 rules each
// (10,000 rules, 100 backend Services, 50 hostnames): how long from a route change being delivered
// to the control plane's snapshot builder to the gateway's new snapshot (model, translation,
// encoding, consistency check), and how big that snapshot is on the wire.
import type { KubeObject } from '../src/cluster/types.ts';
import { SnapshotBuilder, type SnapshotSink } from '../src/controller/snapshots.ts';
import { SnapshotCache } from '../src/xds/cache.ts';
import { TYPE } from '../src/xds/protos.ts';
import type { Snapshot } from '../src/xds/snapshot.ts';
import type { NodeInfo } from '../src/xds/syncz.ts';
import { median, type Benchmark, type BenchResult } from './harness.ts';

const ROUTES = 1000;
const RULES = 10;
const SERVICES = 100;
const HOSTS = 50;
const CHANGES = 7;

function objects(version: number): KubeObject[] {
  const out: KubeObject[] = [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'mesh' }, spec: { controllerName: 'mesh.dev/gateway-controller' } },
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'edge', namespace: 'ingress' }, spec: { gatewayClassName: 'mesh', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] } },
  ];
  for (let s = 0; s < SERVICES; s++) {
    out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${s}`, namespace: `team-${s % 10}` }, spec: { clusterIP: `10.96.${s >> 8}.${s & 255}`, ports: [{ name: 'http', port: 80 }] } });
  }
  for (let r = 0; r < ROUTES; r++) {
    const ns = `team-${r % 10}`;
    const rules = Array.from({ length: RULES }, (_, k) => ({
      matches: [{ path: { type: 'PathPrefix', value: `/r${r}/k${k}${r === 0 ? `/v${version}` : ''}` }, headers: k % 3 === 0 ? [{ name: 'x-tier', value: 'gold' }] : [] }],
      ...(k % 4 === 1 ? { filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-route', value: `r${r}` }] } }] } : {}),
      // Backends in the route's own namespace (svc-S lives in team-(S % 10)).
      backendRefs: [{ name: `svc-${(r % 10) + 10 * k}`, port: 80, weight: 90 }, { name: `svc-${(r % 10) + 10 * ((k + 1) % 10)}`, port: 80, weight: 10 }],
    }));
    out.push({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: `route-${r}`, namespace: ns, creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { parentRefs: [{ name: 'edge', namespace: 'ingress' }], hostnames: [`h${r % HOSTS}.example.com`], rules } });
  }
  return out;
}

function bytes(s: Snapshot): number {
  let n = 0;
  for (const t of Object.values(s.types)) for (const r of t.resources.values()) n += r.any.value.length;
  return n;
}

export const benchmark: Benchmark = {
  name: 'gateway: 1,000 HTTPRoutes (10,000 rules) on one Gateway',
  async run(): Promise<BenchResult[]> {
    const cache = new SnapshotCache();
    let latest: Snapshot | undefined;
    const sink: SnapshotSink = { set: (id, s) => { cache.set(id, s); latest = s; }, refused: (id, m) => { throw new Error(`${id}: ${m}`); }, current: (id) => cache.get(id) };
    const builder = new SnapshotBuilder({ memo: cache.memo });
    const nodes = new Map<string, NodeInfo>([['gw', { id: 'gw', kind: 'gateway', namespace: 'ingress', gateway: 'edge', pod: 'edge-mesh-1' }]]);
    builder.deliver(objects(0));
    const t0 = performance.now();
    builder.rebuild(nodes, Date.now(), sink);
    const first = performance.now() - t0;
    const routes = latest!.types[TYPE.route].resources;
    const rc = [...routes.values()][0]!.msg as { virtual_hosts: { routes: unknown[] }[] };
    const envoyRoutes = rc.virtual_hosts.reduce((n, v) => n + v.routes.length, 0);
    const times: number[] = [];
    for (let i = 1; i <= CHANGES; i++) {
      const start = performance.now();
      // One route's rule changes: the delivery is diffed, the model and the gateway's snapshot rebuilt.
      builder.deliver(objects(i));
      builder.rebuild(nodes, Date.now(), sink);
      times.push(performance.now() - start);
    }
    const size = bytes(latest!);
    return [
      { name: 'first snapshot (cold)', value: first, unit: 'ms', detail: `${envoyRoutes} Envoy routes in ${rc.virtual_hosts.length} virtual hosts, ${latest!.types[TYPE.cluster].resources.size} clusters` },
      { name: 'route change -> new snapshot (median)', value: median(times), unit: 'ms', detail: `${CHANGES} changes of one rule; max ${Math.max(...times).toFixed(0)} ms` },
      { name: 'snapshot size (encoded)', value: size / 1024, unit: 'KiB', detail: `LDS+RDS+CDS+EDS, protobuf bytes` },
    ];
  },
};

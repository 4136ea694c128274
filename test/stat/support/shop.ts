// A small meshed app ("shop") as Kubernetes objects, and proxies whose counters grow with every
// scrape, so two scrapes show known deltas. Shared by the in-process and the API-server tests.
import { envoyPage, type FakeProxy } from './envoy.ts';

const LABEL_PROXY = 'mesh.dev/proxy-version';

function pod(name: string, app: string, opts: { meshed: boolean; ns?: string; sa?: string; phase?: string }) {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: opts.ns ?? 'shop', labels: { app, ...(opts.meshed ? { [LABEL_PROXY]: '0.1.0' } : {}) } },
    spec: { serviceAccountName: opts.sa ?? app, containers: [{ name: app, image: `${app}:1`, ports: [{ name: 'http', containerPort: 8080 }] }, ...(opts.meshed ? [{ name: 'mesh-proxy', image: 'envoy' }] : [])] },
    status: { phase: opts.phase ?? 'Running', podIP: '10.0.0.1' },
  };
}

function deploy(name: string, ns = 'shop') {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `${name}:1` }] } } },
  };
}

function service(name: string, port: number, targetPort: number | string, ns = 'shop') {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector: { app: name }, ports: [{ name: 'http', port, targetPort }] } };
}

/** shop: web (2 meshed pods) calls catalog (2 meshed pods); legacy is not meshed. Plus namespace "other" with one meshed pod. */
export function shopObjects(): Record<string, unknown>[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } },
    deploy('web'), deploy('catalog'), deploy('legacy'), deploy('batch', 'other'),
    service('web', 8080, 8080), service('catalog', 80, 'http'), service('legacy', 80, 8080),
    pod('web-1', 'web', { meshed: true }), pod('web-2', 'web', { meshed: true }),
    pod('catalog-1', 'catalog', { meshed: true }), pod('catalog-2', 'catalog', { meshed: true }),
    pod('legacy-1', 'legacy', { meshed: false }),
    pod('batch-1', 'batch', { meshed: true, ns: 'other' }),
    pod('web-old', 'web', { meshed: true, phase: 'Succeeded' }),
  ];
}

export const CATALOG_CLUSTER = 'outbound|80||catalog.shop.svc.cluster.local';

/**
 * The proxy of pod `name` at its n-th scrape (n = 0, 1, ...). Per scrape:
 * catalog pods serve 60 requests (3 of them 5xx), all taking 40 ms, and open 4 TLS connections;
 * web pods send 20 requests to catalog (1 of them 5xx) taking 8 ms, over 1 new TLS connection.
 */
export function shopProxy(name: string, n: number): FakeProxy {
  if (name.startsWith('catalog')) {
    return {
      inbound: { 8080: { requests: 100 + 60 * n, failures: 3 * n, rateLimited: 7 + 2 * n, latencies: [...Array(100).fill(3), ...Array(60 * n).fill(40)], cxActive: 3, cxTotal: 10 + 4 * n, tls: 10 + 4 * n } },
      listener: { cxActive: 3, cxTotal: 10 + 4 * n, tls: 10 + 4 * n },
    };
  }
  if (name.startsWith('web')) {
    return {
      inbound: { 8080: { requests: 0, cxActive: 0, cxTotal: 0, tls: 0 } },
      outbound: { [CATALOG_CLUSTER]: { requests: 50 + 20 * n, failures: n, latencies: [...Array(50).fill(2), ...Array(20 * n).fill(8)], cxActive: 1, cxTotal: 1 + n, tls: 1 + n } },
      listener: { cxActive: 0, cxTotal: 0, tls: 0 },
    };
  }
  return { inbound: { 9000: { requests: 7 * n, latencies: Array(7 * n).fill(1) } }, listener: { cxActive: 1, cxTotal: 1, tls: 0 } };
}

/** The stats text of pod `name` at its n-th scrape, as its sidecar answers `query` (raw, without "?"). */
export function shopProxyText(name: string, n: number, query = ''): string {
  return envoyPage(shopProxy(name, n), query).body;
}

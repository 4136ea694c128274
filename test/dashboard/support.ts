// Shared by the dashboard tests: the bundle built into the test output folder, the example shop
// (injected by `mesh inject`, as a user would apply it) on the test API server with its stand-in
// kubelet, and proxies whose Envoy stats grow with every scrape (served through the pod proxy,
// the path `mesh stat` and the dashboard scrape on a real cluster).
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { runMeshInProcess } from '../support/cli.ts';
import { startApiServer, startKubelet, type Kubelet, type TestCluster } from '../support/kube.ts';
import { envoyText } from '../stat/support/envoy.ts';
import { HTTPROUTE_CRD } from '../route/support.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Screenshots and the test's bundle go here (gitignored). */
export const OUT = join(ROOT, '.test-output', 'dashboard');
export const CHROMIUM = '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
export const SHOP = join(ROOT, 'examples', 'shop');

/** Build the page with the project's build script into `OUT/<folder>` (one per test file: files run in parallel); returns its folder and file sizes. */
export async function buildBundle(folder: string): Promise<{ dir: string; sizes: Record<string, number> }> {
  const dir = join(OUT, folder);
  mkdirSync(dir, { recursive: true });
  const script = pathToFileURL(join(ROOT, 'scripts', 'build-web.mjs')).href;
  const { buildWeb } = (await import(script)) as { buildWeb: (o: { outDir: string }) => Promise<Record<string, number>> };
  return { dir, sizes: await buildWeb({ outDir: dir }) };
}

export const CATALOG_CLUSTER = 'outbound|8080||catalog.shop.svc.cluster.local';

/**
 * Envoy stats of a shop pod at its n-th scrape. Per scrape: frontend sends 50 requests to catalog
 * (all 2xx, 20 ms, over mTLS); catalog-v1 answers 40 (10 ms, none failing); catalog-v2 answers 10,
 * one of them 5xx (90% success: red).
 */
export function shopStats(pod: string, n: number): string {
  if (pod.startsWith('frontend')) {
    return envoyText({ inbound: { 8080: { requests: 0 } }, outbound: { [CATALOG_CLUSTER]: { requests: 100 + 50 * n, latencies: Array(100 + 50 * n).fill(20), cxActive: 2, cxTotal: 2 + n, tls: 2 + n } }, listener: { cxActive: 0, cxTotal: 0, tls: 0 } });
  }
  if (pod.startsWith('catalog-v1')) return envoyText({ inbound: { 8080: { requests: 40 * n, latencies: Array(40 * n).fill(10), cxActive: 1, cxTotal: 1 + n, tls: 1 + n } }, listener: { cxActive: 1, cxTotal: 1 + n, tls: 1 + n } });
  if (pod.startsWith('catalog-v2')) return envoyText({ inbound: { 8080: { requests: 10 * n, failures: n, latencies: Array(10 * n).fill(30), cxActive: 1, cxTotal: 1 + n, tls: 1 + n } }, listener: { cxActive: 1, cxTotal: 1 + n, tls: 1 + n } });
  return envoyText({ listener: { cxActive: 0, cxTotal: 0, tls: 0 } });
}

/** The example shop, injected, on a test API server with the HTTPRoute CRD, a kubelet and scrape-able proxies. */
export async function startShopCluster(): Promise<{ kube: TestCluster; kubelet: Kubelet; scrapes: Map<string, number> }> {
  const injected = await runMeshInProcess(['inject', '-f', SHOP]);
  if (injected.code !== 0) throw new Error(`mesh inject failed: ${injected.stderr}`);
  const kube = await startApiServer({ seed: [HTTPROUTE_CRD] });
  kube.server.seedYaml(injected.stdout);
  const kubelet = startKubelet(kube.server);
  await kubelet.idle();
  const scrapes = new Map<string, number>();
  kube.server.setPodProxy('*', '*', (req) => {
    if (req.port !== '15090' || req.path !== '/stats/prometheus') return { status: 404, body: 'not found' };
    const n = scrapes.get(req.pod) ?? 0;
    scrapes.set(req.pod, n + 1);
    return shopStats(req.pod, n);
  });
  return { kube, kubelet, scrapes };
}

import { ExitCode, MeshError } from '../errors.js';
import { readProxy } from './envoy.js';
import { ENVOY_METRIC_NAMES } from './envoy.js';
import { parseNumber, type Sample } from './prometheus.js';
import type { TimedReading } from './scrape.js';

interface VectorResult {
  metric: Record<string, string>;
  value: [number, string];
}
interface QueryResponse {
  status: 'success' | 'error';
  data?: { resultType: string; result: VectorResult[] };
  error?: string;
}

/** Labels that carry a series' pod (the usual kubernetes_sd relabelling, as Istio and Linkerd configure it). */
export const PROMETHEUS_POD_LABELS = { namespace: 'namespace', pod: 'pod' } as const;

/** Run an instant query against Prometheus's HTTP API (/api/v1/query) at `time` (seconds since the epoch). */
export async function instantQuery(baseUrl: string, query: string, time: number, timeoutMs = 10_000): Promise<VectorResult[]> {
  const url = new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : baseUrl + '/');
  url.searchParams.set('query', query);
  url.searchParams.set('time', time.toFixed(3));
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new MeshError(`cannot reach Prometheus at ${baseUrl}: ${(err as Error).message}`, { hint: 'check --prometheus-url (e.g. kubectl port-forward svc/prometheus 9090, then http://127.0.0.1:9090)', exitCode: ExitCode.Cluster, cause: err });
  }
  const text = await res.text();
  let body: QueryResponse;
  try {
    body = JSON.parse(text) as QueryResponse;
  } catch {
    throw new MeshError(`Prometheus at ${baseUrl} answered HTTP ${res.status} with something that is not its API's JSON`, { hint: '--prometheus-url must be the Prometheus server root (the part before /api/v1)' });
  }
  if (body.status !== 'success' || !body.data) throw new MeshError(`Prometheus query failed: ${body.error ?? `HTTP ${res.status}`}`, { hint: `the query was: ${query}` });
  if (body.data.resultType !== 'vector') throw new MeshError(`Prometheus returned a ${body.data.resultType}, expected an instant vector`);
  return body.data.result;
}

/**
 * Read every Envoy counter mesh needs at instant `time`, for the pods in `namespaces` (all when
 * undefined), grouped into one reading per `ns/pod`. Two such readings `--window` apart give the
 * same window math as two scrapes.
 */
export async function readingsAt(baseUrl: string, time: number, namespaces: readonly string[] | undefined): Promise<Map<string, TimedReading>> {
  const names = ENVOY_METRIC_NAMES.map(escapeRegex).join('|');
  const nsMatcher = namespaces ? `,${PROMETHEUS_POD_LABELS.namespace}=~"${namespaces.map(escapeRegex).join('|')}"` : '';
  const result = await instantQuery(baseUrl, `{__name__=~"${names}"${nsMatcher}}`, time);
  const byPod = new Map<string, Sample[]>();
  for (const r of result) {
    const { __name__: name, ...labels } = r.metric;
    const ns = labels[PROMETHEUS_POD_LABELS.namespace];
    const pod = labels[PROMETHEUS_POD_LABELS.pod];
    if (!name || !ns || !pod) continue;
    const k = `${ns}/${pod}`;
    let list = byPod.get(k);
    if (!list) byPod.set(k, (list = []));
    list.push({ name, labels, value: parseNumber(r.value[1]) });
  }
  return new Map([...byPod].map(([k, samples]) => [k, { reading: readProxy(samples), at: time * 1000 }]));
}

/** Escape for a PromQL regex inside a double-quoted string (a regex backslash is written twice). */
function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&').replace(/"/g, '\\"');
}

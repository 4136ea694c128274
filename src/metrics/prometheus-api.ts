import { ExitCode, MeshError, usageError } from '../errors.js';
import { readProxy } from './envoy.js';
import { ENVOY_METRIC_NAMES } from './envoy.js';
import { parseNumber, type Sample } from './prometheus.js';
import type { TimedReading } from './scrape.js';

/** One series of an instant vector: its labels and its [time, value] sample. */
export interface VectorResult {
  metric: Record<string, string>;
  value: [number, string];
}
interface QueryResponse {
  status?: string;
  data?: { resultType?: string; result?: VectorResult[] };
  error?: string;
}

/** Labels that carry a series' pod (the usual kubernetes_sd relabelling, as Istio and Linkerd configure it). */
export const PROMETHEUS_POD_LABELS = { namespace: 'namespace', pod: 'pod' } as const;
/** Label the mesh Prometheus addon puts on pod series: the pod's workload (Deployment, StatefulSet, ...) name. */
export const PROMETHEUS_WORKLOAD_LABEL = 'workload';

const URL_HINT = 'e.g. --prometheus-url http://127.0.0.1:9090';

/** Validate a `--prometheus-url` flag: an http(s) URL, returned normalised. Usage error (exit 2) otherwise. */
export function parsePrometheusUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw usageError(`--prometheus-url "${raw}" is not a URL`, URL_HINT);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw usageError(`--prometheus-url must be http or https, not ${u.protocol}`, URL_HINT);
  return u.toString();
}

/**
 * The one Prometheus HTTP API client (`GET /api/v1/query`) of mesh, used by `mesh stat` and
 * `mesh route`. Every failure is a MeshError: a server that cannot be reached exits 3
 * ("unreachable", as for the cluster) with a hint naming --prometheus-url; an answer that is not
 * the API's JSON, or a rejected query, exits 1.
 */
export class PrometheusClient {
  /** The server root, without a trailing slash. */
  readonly url: string;
  /** "Prometheus at URL", for messages. */
  readonly describe: string;

  /** `url` is checked with {@link parsePrometheusUrl}; `timeoutMs` bounds each query. */
  constructor(url: string, private readonly timeoutMs = 10_000) {
    this.url = parsePrometheusUrl(url).replace(/\/+$/, '');
    this.describe = `Prometheus at ${this.url}`;
  }

  /** Run an instant query, at `time` (seconds since the epoch) or the server's now; the instant vector. */
  async query(promql: string, time?: number): Promise<VectorResult[]> {
    const url = new URL(`${this.url}/api/v1/query`);
    url.searchParams.set('query', promql);
    if (time !== undefined) url.searchParams.set('time', time.toFixed(3));
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      text = await res.text();
    } catch (err) {
      throw new MeshError(`cannot reach ${this.describe}: ${(err as Error).message}`, {
        hint: 'check --prometheus-url (in a cluster: kubectl port-forward svc/prometheus 9090, then --prometheus-url http://127.0.0.1:9090)',
        exitCode: ExitCode.Cluster,
        cause: err,
      });
    }
    let body: QueryResponse;
    try {
      body = JSON.parse(text) as QueryResponse;
    } catch (err) {
      throw new MeshError(`${this.describe} answered HTTP ${res.status} with something that is not its API's JSON`, { hint: '--prometheus-url must be the Prometheus server root (the part before /api/v1)', cause: err });
    }
    if (body.status !== 'success' || !body.data) throw new MeshError(`${this.describe} rejected the query: ${body.error ?? `HTTP ${res.status}`}`, { hint: `the query was: ${promql}` });
    if (body.data.resultType !== 'vector') throw new MeshError(`${this.describe} returned a ${body.data.resultType ?? 'result'} where an instant vector was expected`, { hint: `the query was: ${promql}` });
    return body.data.result ?? [];
  }

  /** The first sample of an instant query as a number; undefined when there is none or it is not finite (no traffic). */
  async scalar(promql: string, time?: number): Promise<number | undefined> {
    const first = (await this.query(promql, time))[0]?.value?.[1];
    const n = first === undefined ? NaN : Number(first);
    return Number.isFinite(n) ? n : undefined;
  }
}

/**
 * Read every Envoy counter mesh needs at instant `time`, for the pods in `namespaces` (all when
 * undefined), grouped into one reading per `ns/pod`. Each reading is stamped with the time of the
 * pod's latest scrape (not `time`), so two readings `--window` apart give the same window math as
 * two scrapes even when a scrape was late or missed (a missed 15 s scrape in a 1 m window would
 * otherwise be 25% off).
 */
export async function readingsAt(prometheus: PrometheusClient, time: number, namespaces: readonly string[] | undefined): Promise<Map<string, TimedReading>> {
  const names = ENVOY_METRIC_NAMES.map(escapeRegex).join('|');
  const nsMatcher = namespaces ? `,${PROMETHEUS_POD_LABELS.namespace}=~"${namespaces.map(escapeRegex).join('|')}"` : '';
  const selector = `{__name__=~"${names}"${nsMatcher}}`;
  const { namespace: NS, pod: POD } = PROMETHEUS_POD_LABELS;
  // The scrape times: PromQL's timestamp() gives a sample's own time only when its argument is a
  // plain selector (on any other expression, such as a label_replace, it gives the evaluation
  // time), and every target's scrape writes `up` with the time of the Envoy samples it read.
  const upSelector = `up{${nsMatcher.slice(1)}}`;
  const [result, stamps] = await Promise.all([prometheus.query(selector, time), prometheus.query(`max by (${NS}, ${POD}) (timestamp(${upSelector}))`, time)]);
  const scrapedAt = new Map<string, number>();
  for (const r of stamps) {
    const t = Number(r.value[1]);
    // Only a time this instant can have seen.
    if (r.metric[NS] && r.metric[POD] && Number.isFinite(t) && t <= time + 1 && t > time - 3600) scrapedAt.set(`${r.metric[NS]}/${r.metric[POD]}`, t);
  }
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
  return new Map([...byPod].map(([k, samples]) => [k, { reading: readProxy(samples), at: (scrapedAt.get(k) ?? time) * 1000 }]));
}

/** Escape for a PromQL regex inside a double-quoted string (a regex backslash is written twice). */
function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&').replace(/"/g, '\\"');
}

import { MeshError } from '../errors.js';
import type { BackendStats } from './rollout.js';

/**
 * Where `mesh route show` and progressive rollouts read a backend's live traffic. Implementations:
 * {@link PrometheusMetrics} (`--prometheus-url`); tests pass a fake.
 */
export interface MetricsSource {
  /** What the source is, for messages ("Prometheus at http://..."). */
  readonly describe: string;
  /**
   * Requests/s, success rate and p99 of calls to Service `service` in `ns` over the last
   * `windowSec` seconds, summed over every client proxy; undefined when the source has no data
   * for it. Throws a MeshError when the source cannot be reached.
   */
  backendStats(ns: string, service: string, windowSec: number): Promise<BackendStats | undefined>;
}

/** Escape a string for a PromQL regex inside a double-quoted label matcher. */
function promRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&');
}

/**
 * The PromQL for a backend, over Envoy's client-side cluster statistics. The control plane names
 * outbound clusters `outbound|PORT||NAME.NS.svc.DOMAIN` (src/xds/translate.ts), which Envoy's
 * Prometheus endpoint exposes as the `envoy_cluster_name` label.
 */
export function backendQueries(ns: string, service: string, windowSec: number): { rps: string; errors: string; p99: string } {
  const sel = `envoy_cluster_name=~"outbound\\\\|[0-9]+\\\\|\\\\|${promRegex(`${service}.${ns}.svc.`)}.*"`;
  const w = `${Math.max(1, Math.round(windowSec))}s`;
  return {
    rps: `sum(rate(envoy_cluster_upstream_rq_total{${sel}}[${w}]))`,
    errors: `sum(rate(envoy_cluster_upstream_rq_xx{${sel},envoy_response_code_class="5"}[${w}]))`,
    p99: `histogram_quantile(0.99, sum by (le) (rate(envoy_cluster_upstream_rq_time_bucket{${sel}}[${w}])))`,
  };
}

interface PromResponse {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: { value?: [number, string] }[] };
}

/** Metrics from a Prometheus server's HTTP API (`GET /api/v1/query`). */
export class PrometheusMetrics implements MetricsSource {
  readonly describe: string;
  private readonly base: string;

  constructor(url: string, private readonly timeoutMs = 5000) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new MeshError(`--prometheus-url "${url}" is not a URL`, { hint: 'for example --prometheus-url http://localhost:9090', exitCode: 2 });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new MeshError(`--prometheus-url "${url}" is not http(s)`, { hint: 'for example --prometheus-url http://localhost:9090', exitCode: 2 });
    this.base = u.href.replace(/\/+$/, '');
    this.describe = `Prometheus at ${this.base}`;
  }

  /** Run an instant query; undefined when the result is empty or not a number (no traffic). */
  async query(promql: string): Promise<number | undefined> {
    const url = `${this.base}/api/v1/query?query=${encodeURIComponent(promql)}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new MeshError(`cannot reach ${this.describe}: ${(err as Error).message}`, { hint: 'check --prometheus-url (port-forward Prometheus if it runs in the cluster)', cause: err });
    }
    let body: PromResponse;
    try {
      body = (await res.json()) as PromResponse;
    } catch (err) {
      throw new MeshError(`${this.describe} answered HTTP ${res.status} with a body that is not JSON`, { hint: 'check --prometheus-url points at Prometheus (its /api/v1/query endpoint)', cause: err });
    }
    if (body.status !== 'success') throw new MeshError(`${this.describe} rejected the query: ${body.error ?? `HTTP ${res.status}`}`, { hint: 'check the Prometheus version (2.x or later) and the URL' });
    const first = body.data?.result?.[0]?.value?.[1];
    const n = first === undefined ? NaN : Number(first);
    return Number.isFinite(n) ? n : undefined;
  }

  async backendStats(ns: string, service: string, windowSec: number): Promise<BackendStats | undefined> {
    const q = backendQueries(ns, service, windowSec);
    const [rps, errors, p99] = await Promise.all([this.query(q.rps), this.query(q.errors), this.query(q.p99)]);
    if (rps === undefined) return undefined;
    const successRate = rps > 0 ? Math.max(0, 1 - (errors ?? 0) / rps) : 1;
    const out: BackendStats = { rps, successRate };
    if (p99 !== undefined) out.p99Ms = p99;
    return out;
  }
}

import { PrometheusClient } from '../metrics/prometheus-api.js';
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
   * for it. Throws a MeshError when the source cannot be reached. `at`: the evaluation instant
   * (seconds since the epoch), default now.
   */
  backendStats(ns: string, service: string, windowSec: number, at?: number): Promise<BackendStats | undefined>;
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

/** Metrics from a Prometheus server, through the one client (src/metrics/prometheus-api.ts). */
export class PrometheusMetrics implements MetricsSource {
  readonly describe: string;
  private readonly client: PrometheusClient;

  /** `url` is a --prometheus-url (usage error when it is not http(s)); `timeoutMs` bounds each query. */
  constructor(url: string, timeoutMs = 5000) {
    this.client = new PrometheusClient(url, timeoutMs);
    this.describe = this.client.describe;
  }

  async backendStats(ns: string, service: string, windowSec: number, at: number = Date.now() / 1000): Promise<BackendStats | undefined> {
    const q = backendQueries(ns, service, windowSec);
    // One evaluation instant for the three: queries evaluated apart read different windows, and
    // their ratio (the success rate) would mix them.
    const [rps, errors, p99] = await Promise.all([this.client.scalar(q.rps, at), this.client.scalar(q.errors, at), this.client.scalar(q.p99, at)]);
    if (rps === undefined) return undefined;
    const successRate = rps > 0 ? Math.max(0, 1 - (errors ?? 0) / rps) : 1;
    const out: BackendStats = { rps, successRate };
    if (p99 !== undefined) out.p99Ms = p99;
    return out;
  }
}

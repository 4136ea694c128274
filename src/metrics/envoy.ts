import { counterIncrease, histogramIncrease, histogramQuantile, share, successRate, sumHistograms } from './math.js';
import { parseNumber, sortedBuckets, type Bucket, type Sample } from './prometheus.js';
import { EGRESS_BLOCKED_CLUSTER } from '../constants.js';
import { FLAG_STATS } from './response-flags.js';

/**
 * Envoy's stats as its /stats/prometheus endpoint names them, with Envoy's default tag
 * extraction (docs/stat.md says where each name comes from). The sidecar configuration from
 * src/xds names inbound HTTP connection managers `inbound_PORT`, outbound clusters
 * `outbound|PORT||NAME.NS.svc.cluster.local`, and listens for inbound traffic on 0.0.0.0:15006.
 */
export const ENVOY = {
  downstreamRq: 'envoy_http_downstream_rq_total',
  downstreamRqXx: 'envoy_http_downstream_rq_xx',
  downstreamRqTime: 'envoy_http_downstream_rq_time',
  downstreamCxActive: 'envoy_http_downstream_cx_active',
  downstreamCxTotal: 'envoy_http_downstream_cx_total',
  downstreamCxSsl: 'envoy_http_downstream_cx_ssl_total',
  upstreamRq: 'envoy_cluster_upstream_rq_total',
  upstreamRqXx: 'envoy_cluster_upstream_rq_xx',
  upstreamRqTime: 'envoy_cluster_upstream_rq_time',
  upstreamCxActive: 'envoy_cluster_upstream_cx_active',
  upstreamCxTotal: 'envoy_cluster_upstream_cx_total',
  clusterSslHandshake: 'envoy_cluster_ssl_handshake',
  listenerCxActive: 'envoy_listener_downstream_cx_active',
  listenerCxTotal: 'envoy_listener_downstream_cx_total',
  listenerSslHandshake: 'envoy_listener_ssl_handshake',
  /**
   * Requests the local rate limit answered 429: the filter's `<stat_prefix>.http_local_rate_limit.rate_limited`
   * with stat_prefix `http.inbound_PORT.rate_limit` (src/xds/policy.ts), which Envoy's
   * http_conn_manager_prefix tag extraction turns into this name with the port's HCM prefix label.
   */
  rateLimited: 'envoy_http_rate_limit_http_local_rate_limit_rate_limited',
  /** Label values. */
  hcmPrefix: 'envoy_http_conn_manager_prefix',
  clusterName: 'envoy_cluster_name',
  codeClass: 'envoy_response_code_class',
  listenerAddress: 'envoy_listener_address',
  inboundListener: '0.0.0.0_15006',
} as const;

/** The names `--prometheus-url` asks Prometheus for (everything a reading needs). */
export const ENVOY_METRIC_NAMES: readonly string[] = [
  ENVOY.downstreamRq, ENVOY.downstreamRqXx, `${ENVOY.downstreamRqTime}_bucket`, ENVOY.downstreamCxActive, ENVOY.downstreamCxTotal, ENVOY.downstreamCxSsl,
  ENVOY.upstreamRq, ENVOY.upstreamRqXx, `${ENVOY.upstreamRqTime}_bucket`, ENVOY.upstreamCxActive, ENVOY.upstreamCxTotal, ENVOY.clusterSslHandshake,
  ENVOY.listenerCxActive, ENVOY.listenerCxTotal, ENVOY.listenerSslHandshake, ENVOY.rateLimited,
  ...Object.keys(FLAG_STATS),
];

const WANTED = new Set([...ENVOY_METRIC_NAMES, `${ENVOY.downstreamRqTime}`, `${ENVOY.upstreamRqTime}`]);

/** Whether a metric (or histogram family) name is one `readProxy` uses: pass to parsePrometheusText. */
export function isEnvoyMetricWanted(name: string): boolean {
  return WANTED.has(name);
}

const CANONICAL = new Map([...WANTED].map((n) => [n, n]));

/**
 * The wanted name equal to `name` as the one string readProxy compares with (so its comparisons
 * are by identity, not by content), or undefined when `name` is not wanted.
 */
export function wantedEnvoyMetric(name: string): string | undefined {
  return CANONICAL.get(name);
}

/** Counters and gauges of one direction of traffic (one inbound port, one outbound cluster, or a sum). */
export interface Side {
  /** Requests (counter). */
  requests: number;
  /** Requests answered 5xx (counter). */
  failures: number;
  /** Request latency in milliseconds (cumulative histogram buckets). */
  latencyMs: Bucket[];
  /** Open connections (gauge). */
  cxActive: number;
  /** Connections opened (counter). */
  cxTotal: number;
  /** Connections that completed a TLS handshake (counter). */
  tls: number;
  /** Failures by Envoy response flag (UH, UF, RBAC, ...: metrics/response-flags.ts), from the counters that count them. */
  flags: Record<string, number>;
  /** Requests the local rate limit refused with 429 (counter; inbound ports only). */
  rateLimited: number;
}

/** Everything mesh reads from one proxy at one instant. */
export interface ProxyReading {
  /** Inbound HTTP traffic per application port (from HTTP connection managers `inbound_PORT`). */
  inboundPorts: Map<number, Side>;
  /** All inbound connections, HTTP or TCP (the inbound listener on 15006); request fields are 0. */
  inboundListener: Side;
  /** Outbound traffic per cluster name (`outbound|PORT||FQDN`). */
  outbound: Map<string, Side>;
}

function emptySide(): Side {
  return { requests: 0, failures: 0, latencyMs: [], cxActive: 0, cxTotal: 0, tls: 0, rateLimited: 0, flags: {} };
}

/** `inbound_8080` -> 8080; anything else -> undefined. */
function inboundPort(prefix: string | undefined): number | undefined {
  const m = /^inbound_(\d+)$/.exec(prefix ?? '');
  return m ? Number(m[1]) : undefined;
}

/** The labels of a sample readProxy looks at (the rest do not change a reading). */
export interface ReadLabels {
  prefix: string | undefined;
  cluster: string | undefined;
  codeClass: string | undefined;
  address: string | undefined;
  le: string | undefined;
}

const IN_BUCKET = `${ENVOY.downstreamRqTime}_bucket`;
const OUT_BUCKET = `${ENVOY.upstreamRqTime}_bucket`;

/**
 * Builds one proxy's reading from its samples, one at a time and in page order: readProxy feeds
 * it Sample objects, envoy-text.ts feeds it straight from the text. Histogram buckets are summed
 * by group and `le` as they come (histogramBuckets' sums, in the same order) and turned into
 * latencies last, inbound then outbound, as readProxy always did.
 */
export class ReadingBuilder {
  private readonly inboundPorts = new Map<number, Side>();
  private readonly outbound = new Map<string, Side>();
  private readonly inboundListener = emptySide();
  /** Bucket counts by group (port, cluster) and `le`, in order of first appearance. */
  private readonly inHist = new Map<number, Map<number, number>>();
  private readonly outHist = new Map<string, Map<number, number>>();
  /** inboundPort() per prefix, parseNumber() per `le`: a page repeats a few of each hundreds of times. */
  private readonly ports = new Map<string, number | undefined>();
  private readonly les = new Map<string, number>();

  private le(text: string): number {
    let v = this.les.get(text);
    if (v === undefined) this.les.set(text, (v = parseNumber(text)));
    return v;
  }

  private bucket<K>(acc: Map<K, Map<number, number>>, group: K, le: string, value: number): void {
    const at = this.le(le);
    let m = acc.get(group);
    if (!m) acc.set(group, (m = new Map()));
    m.set(at, (m.get(at) ?? 0) + value);
  }

  private port(prefix: string | undefined): number | undefined {
    if (prefix === undefined) return undefined;
    if (this.ports.has(prefix)) return this.ports.get(prefix);
    const p = inboundPort(prefix);
    this.ports.set(prefix, p);
    return p;
  }

  private inSide(port: number): Side {
    let s = this.inboundPorts.get(port);
    if (!s) this.inboundPorts.set(port, (s = emptySide()));
    return s;
  }

  private outSide(cluster: string): Side {
    let s = this.outbound.get(cluster);
    if (!s) this.outbound.set(cluster, (s = emptySide()));
    return s;
  }

  /** Count one sample. Unknown metrics are ignored. */
  add(name: string, l: ReadLabels, value: number): void {
    // Buckets count whatever their value (histogramBuckets never skipped a non-finite one).
    if (l.le !== undefined) {
      if (name === OUT_BUCKET) {
        if (l.cluster?.startsWith('outbound|')) this.bucket(this.outHist, l.cluster, l.le, value);
        return;
      }
      if (name === IN_BUCKET) {
        const p = this.port(l.prefix);
        if (p !== undefined) this.bucket(this.inHist, p, l.le, value);
        return;
      }
    }
    if (!Number.isFinite(value)) return;
    const port = this.port(l.prefix);
    const cluster = l.cluster;
    const isOut = cluster !== undefined && cluster.startsWith('outbound|');
    switch (name) {
      case ENVOY.downstreamRq: if (port !== undefined) this.inSide(port).requests += value; break;
      case ENVOY.downstreamRqXx: if (port !== undefined && l.codeClass === '5') this.inSide(port).failures += value; break;
      case ENVOY.downstreamCxActive: if (port !== undefined) this.inSide(port).cxActive += value; break;
      case ENVOY.downstreamCxTotal: if (port !== undefined) this.inSide(port).cxTotal += value; break;
      case ENVOY.downstreamCxSsl: if (port !== undefined) this.inSide(port).tls += value; break;
      case ENVOY.rateLimited: if (port !== undefined) this.inSide(port).rateLimited += value; break;
      case ENVOY.upstreamRq: if (isOut) this.outSide(cluster).requests += value; break;
      case ENVOY.upstreamRqXx: if (isOut && l.codeClass === '5') this.outSide(cluster).failures += value; break;
      case ENVOY.upstreamCxActive: if (isOut) this.outSide(cluster).cxActive += value; break;
      case ENVOY.upstreamCxTotal: if (isOut) this.outSide(cluster).cxTotal += value; break;
      case ENVOY.clusterSslHandshake: if (isOut) this.outSide(cluster).tls += value; break;
      case ENVOY.listenerCxActive: if (l.address === ENVOY.inboundListener) this.inboundListener.cxActive += value; break;
      case ENVOY.listenerCxTotal: if (l.address === ENVOY.inboundListener) this.inboundListener.cxTotal += value; break;
      case ENVOY.listenerSslHandshake: if (l.address === ENVOY.inboundListener) this.inboundListener.tls += value; break;
      default: {
        let flag = Object.hasOwn(FLAG_STATS, name) ? FLAG_STATS[name]! : undefined;
        if (!flag) break;
        const blocked = cluster === EGRESS_BLOCKED_CLUSTER;
        if (blocked) flag = flag === 'UH' ? 'BLOCKED' : flag;
        const side = isOut || blocked ? this.outSide(cluster!) : port !== undefined ? this.inSide(port) : undefined;
        if (side) side.flags[flag] = (side.flags[flag] ?? 0) + value;
      }
    }
  }

  /** The reading of everything added. */
  finish(): ProxyReading {
    for (const [p, m] of this.inHist) this.inSide(p).latencyMs = sortedBuckets(m);
    for (const [c, m] of this.outHist) this.outSide(c).latencyMs = sortedBuckets(m);
    return { inboundPorts: this.inboundPorts, inboundListener: this.inboundListener, outbound: this.outbound };
  }
}

/** Turn the samples of one proxy's /stats/prometheus into a reading. Unknown metrics are ignored. */
export function readProxy(samples: readonly Sample[]): ProxyReading {
  const b = new ReadingBuilder();
  for (const { name, labels, value } of samples) {
    b.add(name, { prefix: labels[ENVOY.hcmPrefix], cluster: labels[ENVOY.clusterName], codeClass: labels[ENVOY.codeClass], address: labels[ENVOY.listenerAddress], le: labels.le }, value);
  }
  return b.finish();
}

/** Traffic of one or more proxies over a window: increases of counters, current gauges. */
export interface WindowTraffic {
  /** Sum over proxies of each proxy's request increase divided by its own window length. */
  rps: number;
  requests: number;
  failures: number;
  /** Requests refused by the local rate limit (429) in the window. */
  rateLimited: number;
  latencyMs: Bucket[];
  cxActive: number;
  /** Connections opened during the window, and how many of them completed TLS. */
  cxNew: number;
  tlsNew: number;
  /** Connections and TLS handshakes since the proxies started (when none were opened in the window). */
  cxLifetime: number;
  tlsLifetime: number;
  /** Failures by response flag during the window. */
  flags: Record<string, number>;
}

/** An empty window (no proxies). */
export function emptyWindow(): WindowTraffic {
  return { rps: 0, requests: 0, failures: 0, rateLimited: 0, latencyMs: [], cxActive: 0, cxNew: 0, tlsNew: 0, cxLifetime: 0, tlsLifetime: 0, flags: {} };
}

/**
 * What happened on one side between two readings `seconds` apart (counter resets handled as
 * Prometheus does). Sides missing in `before` (new clusters) count from zero.
 */
export function sideWindow(before: Side | undefined, after: Side, seconds: number): WindowTraffic {
  const b = before ?? emptySide();
  const requests = counterIncrease(b.requests, after.requests);
  return {
    rps: seconds > 0 ? requests / seconds : 0,
    requests,
    failures: counterIncrease(b.failures, after.failures),
    rateLimited: counterIncrease(b.rateLimited, after.rateLimited),
    latencyMs: histogramIncrease(b.latencyMs, after.latencyMs),
    cxActive: after.cxActive,
    cxNew: counterIncrease(b.cxTotal, after.cxTotal),
    tlsNew: counterIncrease(b.tls, after.tls),
    cxLifetime: after.cxTotal,
    tlsLifetime: after.tls,
    flags: Object.fromEntries(Object.entries(after.flags).map(([f, n]) => [f, counterIncrease(b.flags[f] ?? 0, n)])),
  };
}

/** Add windows together (proxies of one workload, ports of one service, clusters of one edge). */
export function addWindows(ws: readonly WindowTraffic[]): WindowTraffic {
  const out = emptyWindow();
  for (const w of ws) {
    out.rps += w.rps;
    out.requests += w.requests;
    out.failures += w.failures;
    out.rateLimited += w.rateLimited;
    out.cxActive += w.cxActive;
    out.cxNew += w.cxNew;
    out.tlsNew += w.tlsNew;
    out.cxLifetime += w.cxLifetime;
    out.tlsLifetime += w.tlsLifetime;
    for (const [f, n] of Object.entries(w.flags)) out.flags[f] = (out.flags[f] ?? 0) + n;
  }
  out.latencyMs = sumHistograms(ws.map((w) => w.latencyMs));
  return out;
}

/** The numbers a `mesh stat` row shows, from a window. Undefined means "no data" (shown as "-"). */
export interface TrafficSummary {
  rps: number;
  successRate: number | undefined;
  latencyMs: { p50: number | undefined; p95: number | undefined; p99: number | undefined };
  tcpConnections: number;
  /** Share of connections using mTLS: of those opened in the window, else of all since the proxies started. */
  mtlsShare: number | undefined;
}

function quantile(q: number, b: readonly Bucket[]): number | undefined {
  const v = histogramQuantile(q, b);
  return Number.isFinite(v) ? v : undefined;
}

/** Summarise a window: success rate, quantiles (histogram_quantile semantics), mTLS share. */
export function summarize(w: WindowTraffic): TrafficSummary {
  return {
    rps: w.rps,
    successRate: successRate(w.requests, w.failures),
    latencyMs: { p50: quantile(0.5, w.latencyMs), p95: quantile(0.95, w.latencyMs), p99: quantile(0.99, w.latencyMs) },
    tcpConnections: w.cxActive,
    mtlsShare: w.cxNew > 0 ? share(w.tlsNew, w.cxNew) : share(w.tlsLifetime, w.cxLifetime),
  };
}

/** `outbound|8080||catalog.shop.svc.cluster.local` -> {port 8080, service catalog, namespace shop}. */
export function parseClusterName(name: string): { port: number; service: string; namespace: string; subset: string } | undefined {
  const parts = name.split('|');
  if (parts.length !== 4 || parts[0] !== 'outbound') return undefined;
  const [svc, ns] = parts[3]!.split('.');
  const port = Number(parts[1]);
  if (!svc || !ns || !Number.isInteger(port)) return undefined;
  return { port, service: svc, namespace: ns, subset: parts[2]! };
}

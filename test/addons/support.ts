// Shared by the addon tests: where promtool/prometheus are, the dashboards' expressions with
// their variables filled in, Envoy-format metrics whose counters grow at known rates, and a real
// Prometheus started on a free loopback port (waited on through its API, never by fixed sleeps).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { ENVOY_BUCKETS } from '../stat/support/envoy.ts';
import { meshDashboards, type Dashboard } from '../../src/manifests/dashboards.ts';

const which = (bin: string) => [`/usr/bin/${bin}`, `/usr/local/bin/${bin}`].find((p) => existsSync(p));
/** Debian's prometheus package (.ci/run installs it); undefined when absent. */
export const PROMETHEUS = which('prometheus');
export const PROMTOOL = which('promtool');
/** Skip reason for node:test when they are missing (CI installs them, so CI never skips). */
export const PROMETHEUS_MISSING = PROMETHEUS && PROMTOOL ? false : 'prometheus/promtool not installed (apt-get install prometheus; .ci/run installs it)';

/** Values of the dashboards' variables a test fills in, e.g. { namespace: 'shop' }. */
export type DashboardVars = Record<string, string>;

/** One dashboard query with its variables replaced, ready for Prometheus. */
export interface ConcreteTarget {
  key: string;
  dashboard: Dashboard;
  expr: string;
  legendFormat: string;
}

/** Every query of every shipped dashboard, keyed `uid/panel title/refId`, with `$var` and `$__rate_interval` replaced. */
export function concreteTargets(vars: Record<string, DashboardVars>, rateInterval: string): ConcreteTarget[] {
  const out: ConcreteTarget[] = [];
  for (const d of meshDashboards()) {
    const v: DashboardVars = { __rate_interval: rateInterval, ...(vars[d.uid] ?? {}) };
    for (const p of d.panels) {
      for (const t of p.targets) {
        const expr = t.expr.replace(/\$(\w+)/g, (m, name: string) => {
          if (!(name in v)) throw new Error(`${d.uid}/${p.title}: no test value for variable $${name}`);
          return v[name]!;
        });
        out.push({ key: `${d.uid}/${p.title}/${t.refId}`, dashboard: d, expr, legendFormat: t.legendFormat });
      }
    }
  }
  return out;
}

/** A legend as Grafana renders it: `{{label}}` replaced by the series' label value. */
export function renderLegend(format: string, labels: Record<string, string>): string {
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, l: string) => labels[l] ?? '');
}

/** Traffic through one side of a proxy, as rates: counters are rate x seconds, so the truth is exact at any instant. */
export interface Flow {
  rps: number;
  /** Share of requests answered 5xx. */
  failShare: number;
  /** Latency distribution: [milliseconds, share of requests]. */
  latency: [number, number][];
  /** New connections per second, and how many of them per second completed TLS. */
  cxPerSec: number;
  tlsPerSec: number;
}

/** What a fake sidecar or gateway serves: inbound HTTP per port, outbound per cluster name. */
export interface FakeEnvoy {
  inbound?: Record<number, Flow>;
  outbound?: Record<string, Flow>;
}

function histogramLines(name: string, labels: string, n: number, latency: [number, number][]): string[] {
  const out: string[] = [];
  for (const le of ENVOY_BUCKETS) out.push(`${name}_bucket{${labels},le="${le}"} ${n * latency.filter(([v]) => v <= le).reduce((a, [, s]) => a + s, 0)}`);
  out.push(`${name}_bucket{${labels},le="+Inf"} ${n}`);
  out.push(`${name}_sum{${labels}} ${n * latency.reduce((a, [v, s]) => a + v * s, 0)}`);
  out.push(`${name}_count{${labels}} ${n}`);
  return out;
}

/**
 * Envoy's /stats/prometheus text for `p` after `t` seconds of steady traffic (names and labels as
 * Envoy prints them, with the stats listener's own counters as noise). Counters are fractional on
 * purpose: a rate times an instant, so readings at any two instants give the rate exactly.
 * `timestampMs` (the instant `t` stands for) is written on every sample when given.
 */
export function envoyAt(p: FakeEnvoy, t: number, timestampMs?: number): string {
  const L: string[] = [];
  const inbound = Object.entries(p.inbound ?? {});
  const outbound = Object.entries(p.outbound ?? {});
  const cx = inbound.reduce((a, [, f]) => a + f.cxPerSec * t, 0);
  const tls = inbound.reduce((a, [, f]) => a + f.tlsPerSec * t, 0);
  L.push('# TYPE envoy_http_downstream_rq_total counter');
  for (const [port, f] of inbound) L.push(`envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="inbound_${port}"} ${f.rps * t}`);
  L.push(`envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="prometheus"} ${5 * t}`);
  L.push('# TYPE envoy_http_downstream_rq_xx counter');
  for (const [port, f] of inbound) {
    L.push(`envoy_http_downstream_rq_xx{envoy_response_code_class="2",envoy_http_conn_manager_prefix="inbound_${port}"} ${f.rps * (1 - f.failShare) * t}`);
    L.push(`envoy_http_downstream_rq_xx{envoy_response_code_class="5",envoy_http_conn_manager_prefix="inbound_${port}"} ${f.rps * f.failShare * t}`);
  }
  L.push('# TYPE envoy_http_downstream_cx_total counter');
  for (const [port, f] of inbound) L.push(`envoy_http_downstream_cx_total{envoy_http_conn_manager_prefix="inbound_${port}"} ${f.cxPerSec * t}`);
  L.push('# TYPE envoy_http_downstream_cx_ssl_total counter');
  for (const [port, f] of inbound) L.push(`envoy_http_downstream_cx_ssl_total{envoy_http_conn_manager_prefix="inbound_${port}"} ${f.tlsPerSec * t}`);
  L.push('# TYPE envoy_http_downstream_cx_active gauge');
  for (const [port] of inbound) L.push(`envoy_http_downstream_cx_active{envoy_http_conn_manager_prefix="inbound_${port}"} 3`);
  if (inbound.length) {
    L.push('# TYPE envoy_listener_downstream_cx_total counter', `envoy_listener_downstream_cx_total{envoy_listener_address="0.0.0.0_15006"} ${cx}`, `envoy_listener_downstream_cx_total{envoy_listener_address="0.0.0.0_15090"} ${2 * t}`);
    L.push('# TYPE envoy_listener_ssl_handshake counter', `envoy_listener_ssl_handshake{envoy_listener_address="0.0.0.0_15006"} ${tls}`);
    L.push('# TYPE envoy_listener_downstream_cx_active gauge', `envoy_listener_downstream_cx_active{envoy_listener_address="0.0.0.0_15006"} 3`);
  }
  L.push('# TYPE envoy_cluster_upstream_rq_total counter');
  for (const [c, f] of outbound) L.push(`envoy_cluster_upstream_rq_total{envoy_cluster_name="${c}"} ${f.rps * t}`);
  L.push(`envoy_cluster_upstream_rq_total{envoy_cluster_name="prometheus_stats"} ${5 * t}`);
  L.push('# TYPE envoy_cluster_upstream_rq_xx counter');
  for (const [c, f] of outbound) {
    L.push(`envoy_cluster_upstream_rq_xx{envoy_response_code_class="2",envoy_cluster_name="${c}"} ${f.rps * (1 - f.failShare) * t}`);
    L.push(`envoy_cluster_upstream_rq_xx{envoy_response_code_class="5",envoy_cluster_name="${c}"} ${f.rps * f.failShare * t}`);
  }
  L.push('# TYPE envoy_cluster_upstream_cx_total counter');
  for (const [c, f] of outbound) L.push(`envoy_cluster_upstream_cx_total{envoy_cluster_name="${c}"} ${f.cxPerSec * t}`);
  L.push('# TYPE envoy_cluster_ssl_handshake counter');
  for (const [c, f] of outbound) L.push(`envoy_cluster_ssl_handshake{envoy_cluster_name="${c}"} ${f.tlsPerSec * t}`);
  L.push('# TYPE envoy_cluster_upstream_cx_active gauge');
  for (const [c] of outbound) L.push(`envoy_cluster_upstream_cx_active{envoy_cluster_name="${c}"} 1`);
  L.push('# TYPE envoy_server_uptime gauge', `envoy_server_uptime{} ${t}`);
  L.push('# TYPE envoy_http_downstream_rq_time histogram');
  for (const [port, f] of inbound) L.push(...histogramLines('envoy_http_downstream_rq_time', `envoy_http_conn_manager_prefix="inbound_${port}"`, f.rps * t, f.latency));
  L.push('# TYPE envoy_cluster_upstream_rq_time histogram');
  for (const [c, f] of outbound) L.push(...histogramLines('envoy_cluster_upstream_rq_time', `envoy_cluster_name="${c}"`, f.rps * t, f.latency));
  // With a timestamp each sample says when its value held, so a scrape answered late (a busy event
  // loop) still gives Prometheus exact slopes.
  return (timestampMs === undefined ? L : L.map((l) => (l.startsWith('#') ? l : `${l} ${timestampMs}`))).join('\n') + '\n';
}

/** A free TCP port on `host` (the kernel's pick; closed again before it is returned). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A running Prometheus: its URL, a JSON GET on its API, and stop(). */
export interface RunningPrometheus {
  url: string;
  api<T>(path: string): Promise<T>;
  stop(): Promise<void>;
  /** What it printed (for failure messages). */
  log(): string;
}

/** Start Debian's prometheus on 127.0.0.1 with `configFile`, storage in `dataDir`; resolves once /-/ready answers 200. */
export async function startPrometheus(configFile: string, dataDir: string, deadlineMs = 15_000): Promise<RunningPrometheus> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(PROMETHEUS!, [`--config.file=${configFile}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (b: Buffer) => void (log += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  };
  await waitUntil(async () => {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${log}`);
    try {
      return (await fetch(`${url}/-/ready`)).status === 200;
    } catch {
      return false;
    }
  }, deadlineMs, () => `prometheus not ready at ${url}: ${log}`);
  return { url, api, stop, log: () => log };
}

/**
 * Poll `check` until it returns true (each poll right after the previous answer, with a short
 * yield so the event loop serves the scrapes); throws `message()` after `deadlineMs`.
 */
export async function waitUntil(check: () => Promise<boolean>, deadlineMs: number, message: () => string): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(message());
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** promtool with `args`; its exit status and output. */
export function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL!, args, { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/**
 * The table of `mesh stat` (its -o json is src/status/stat.ts's StatReport itself). The row shape
 * is declared here, as what the table reads, so ui/ does not import status/ (which sits above it).
 */

import { formatFlagCounts, type FlagCount } from '../../metrics/response-flags.js';

/** The fields of one stat row (src/status/stat.ts StatRow) the table shows. */
export interface StatTableRow {
  namespace: string;
  name: string;
  direction: string;
  pods: number;
  meshedPods: number;
  unreachablePods: number;
  requests: number;
  failures: number;
  /** Requests the pods' sidecars refused with 429 (local rate limit, TrafficPolicy rateLimit). */
  rateLimited: number;
  rps: number;
  successRate: number | null;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  tcpConnections: number;
  mtlsShare: number | null;
  /** Failures in the window by Envoy response flag, in words (metrics/response-flags.ts), most frequent first. */
  errors: FlagCount[];
}

/** Format a share in [0,1] as a percentage ("98.50%"), "-" when unknown. */
export function fmtPercent(v: number | null, digits = 2): string {
  return v === null ? '-' : `${(v * 100).toFixed(digits)}%`;
}

/** Format a latency in ms ("4ms", "37.5ms", "1.2s"), "-" when unknown. */
export function fmtLatency(v: number | null): string {
  if (v === null) return '-';
  if (v >= 1000) return `${Number((v / 1000).toFixed(2))}s`;
  return `${Number(v < 10 ? v.toFixed(2) : v.toFixed(1))}ms`;
}

/** Render rows as kubectl-style table text. */
export async function renderStatTable(report: { rows: readonly StatTableRow[] }, opts: { wide: boolean; allNamespaces: boolean }): Promise<string> {
  const { renderTable } = await import('../table.js');
  type R = StatTableRow;
  const noData = (r: R) => r.meshedPods === 0;
  return renderTable<R>(report.rows, [
    ...(opts.allNamespaces ? [{ header: 'NAMESPACE', value: (r: R) => r.namespace }] : []),
    { header: 'NAME', value: (r) => r.name },
    { header: 'MESHED', value: (r) => `${r.meshedPods}/${r.pods}` },
    { header: 'SUCCESS', value: (r) => fmtPercent(r.successRate) },
    { header: 'RPS', value: (r) => (noData(r) ? '-' : r.rps.toFixed(1)) },
    { header: 'LATENCY_P50', value: (r) => fmtLatency(r.latencyMs.p50) },
    { header: 'LATENCY_P95', value: (r) => fmtLatency(r.latencyMs.p95) },
    { header: 'LATENCY_P99', value: (r) => fmtLatency(r.latencyMs.p99) },
    { header: 'TCP_CONN', value: (r) => (noData(r) ? '-' : String(r.tcpConnections)) },
    { header: 'MTLS', value: (r) => fmtPercent(r.mtlsShare, 0) },
    { header: 'DIRECTION', value: (r) => r.direction, wide: true },
    { header: 'REQUESTS', value: (r) => String(r.requests), wide: true },
    { header: 'FAILED', value: (r) => String(r.failures), wide: true },
    { header: 'RATE_LIMITED', value: (r) => String(r.rateLimited), wide: true },
    { header: 'UNREACHABLE', value: (r) => String(r.unreachablePods), wide: true },
    { header: 'ERRORS', value: (r) => formatFlagCounts(r.errors), wide: true },
  ], { wide: opts.wide, emptyMessage: `No resources found${opts.allNamespaces ? '' : ' in this namespace'}.` });
}

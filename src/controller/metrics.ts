import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The controller's Prometheus metrics, in a registry of its own (no global state). */
export class ControllerMetrics {
  readonly registry = new Registry();
  readonly connected = new Gauge({ name: 'mesh_xds_connected_proxies', help: 'ADS streams currently open', registers: [this.registry] });
  readonly pushes = new Counter({ name: 'mesh_xds_pushes_total', help: 'DiscoveryResponses sent, by resource type', labelNames: ['type'], registers: [this.registry] });
  readonly pushBytes = new Counter({ name: 'mesh_xds_push_bytes_total', help: 'Encoded resource bytes sent, by resource type', labelNames: ['type'], registers: [this.registry] });
  readonly pushLatency = new Histogram({
    name: 'mesh_xds_push_latency_seconds',
    help: 'Time from a source change to the response carrying it being written to a stream',
    labelNames: ['type'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly nacks = new Counter({ name: 'mesh_xds_nacks_total', help: 'DiscoveryRequests rejecting our config, by resource type', labelNames: ['type'], registers: [this.registry] });
  readonly sdsIssued = new Counter({ name: 'mesh_sds_certificates_issued_total', help: 'Workload certificates issued to proxies over SDS (first issue and renewals)', labelNames: ['kind'], registers: [this.registry] });
  readonly sdsRefused = new Counter({ name: 'mesh_sds_streams_refused_total', help: 'ADS streams refused SDS secrets (not authenticated, plaintext, mismatch, no CA)', registers: [this.registry] });
  readonly generation = new Gauge({ name: 'mesh_model_generation', help: 'Model builds since start', registers: [this.registry] });
  readonly buildSeconds = new Histogram({ name: 'mesh_xds_snapshot_build_seconds', help: 'Time to translate and encode one snapshot', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [this.registry] });

  /** Also export process metrics (RSS, event loop lag); only the long-running controller wants them. */
  withProcessMetrics(): this {
    collectDefaultMetrics({ register: this.registry });
    return this;
  }
}

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The controller's Prometheus metrics, in a registry of its own (no global state). */
export class ControllerMetrics {
  readonly registry = new Registry();
  readonly connected = new Gauge({ name: 'mesh_xds_connected_proxies', help: 'ADS streams currently open, by proxy type (sidecar, grpc) and the version the proxy reports', labelNames: ['type', 'version'], registers: [this.registry] });
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
  readonly certsIssued = new Counter({ name: 'mesh_ca_certificates_issued_total', help: 'Workload certificates signed, by how they were asked for (sds: over ADS; csr: the CertificateService)', labelNames: ['service'], registers: [this.registry] });
  readonly certsFailed = new Counter({ name: 'mesh_ca_certificates_failed_total', help: 'Certificate requests refused or failed, by service (sds, csr) and reason', labelNames: ['service', 'reason'], registers: [this.registry] });
  readonly webhookLatency = new Histogram({
    name: 'mesh_webhook_request_duration_seconds',
    help: 'Time to answer one admission request (POST /inject), by outcome (injected, skipped, denied, error)',
    labelNames: ['outcome'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly webhookFailures = new Counter({ name: 'mesh_webhook_failures_total', help: 'Admission requests the webhook could not inject (denied or errored), by reason', labelNames: ['reason'], registers: [this.registry] });
  readonly generation = new Gauge({ name: 'mesh_model_generation', help: 'Model builds since start', registers: [this.registry] });
  readonly buildSeconds = new Histogram({ name: 'mesh_xds_snapshot_build_seconds', help: 'Time to translate and encode one snapshot', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [this.registry] });

  /** Count one admission request: its latency by outcome, and a failure when it was not injected for a reason. */
  observeWebhook(outcome: { kind: string; reason?: string }, seconds: number): void {
    this.webhookLatency.observe({ outcome: outcome.kind }, seconds);
    if (outcome.reason) this.webhookFailures.inc({ reason: outcome.reason });
  }

  /** Also export process metrics (RSS, event loop lag); only the long-running controller wants them. */
  withProcessMetrics(): this {
    collectDefaultMetrics({ register: this.registry });
    return this;
  }
}

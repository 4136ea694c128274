// An ADS client as an Envoy sidecar would be: a TLS stream to the controller trusting the mesh
// root, node metadata NAMESPACE/POD_NAME/PROXY_KIND, and the pod's projected ServiceAccount token
// as "authorization: Bearer" metadata. Plus the controller's TLS xDS port, for tests.
import assert from 'node:assert/strict';
import { on } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { ControlPlane } from '../../src/controller/controlplane.ts';
import type { CertificateAuthority } from '../../src/pki/index.ts';
import type { DiscoveryResponse, StreamStatus } from '../../src/xds/ads.ts';
import { decodeResource } from '../../src/xds/encode.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { AdsClient, CONTROLLER_HOST } from '../support/ads-client.ts';

export { CONTROLLER_HOST };

/** What the server's 'ack' event carries. */
interface AckEvent {
  stream: StreamStatus;
  typeUrl: string;
  version: string;
}

/** The same AdsServer on a second gRPC server over TLS (what `--xds-tls-port` serves); resolves to its port. */
export async function startTlsAds(cp: ControlPlane, ca: CertificateAuthority): Promise<{ server: grpc.Server; port: number }> {
  const serving = await ca.issueServingCert({ dnsNames: [CONTROLLER_HOST] });
  const server = new grpc.Server();
  server.addService(cp.ads.serviceDefinition(), cp.ads.handlers({ transport: 'tls' }));
  const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(serving.certPem), private_key: Buffer.from(serving.keyPem) }], false);
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? rej(e) : res(p))));
  return { server, port };
}

/** An Envoy-like sidecar stream (user agent "envoy", NAMESPACE/POD_NAME/PROXY_KIND=sidecar). */
export class AdsStream extends AdsClient {
  private readonly awaitAcks: boolean;

  /**
   * `rootPem` given: TLS trusting it; otherwise plaintext. `cp` supplies the service definition and,
   * unless `awaitAcks` is false (a controller in another process or behind runController), the
   * 'ack' events ack() waits for.
   */
  constructor(readonly cp: ControlPlane, port: number, nodeId: string, readonly meta: { namespace: string; pod: string }, opts: { token?: string; rootPem?: string; awaitAcks?: boolean; buildVersion?: string } = {}) {
    super(cp.ads.serviceDefinition(), port, nodeId, { NAMESPACE: meta.namespace, POD_NAME: meta.pod, PROXY_KIND: 'sidecar' }, { token: opts.token, rootPem: opts.rootPem, userAgent: 'envoy', ...(opts.buildVersion ? { buildVersion: opts.buildVersion } : {}) });
    this.awaitAcks = opts.awaitAcks ?? true;
  }

  /** Subscribe CDS and LDS (wildcard, ACKed), then SDS default/ROOTCA; resolves to the SDS response. */
  async subscribe(): Promise<DiscoveryResponse> {
    this.send({ type_url: TYPE.cluster, resource_names: [] });
    await this.ack(await this.next());
    this.send({ type_url: TYPE.listener, resource_names: [] });
    await this.ack(await this.next());
    this.send({ type_url: TYPE.secret, resource_names: ['default', 'ROOTCA'] });
    const sds = await this.next();
    assert.equal(sds.type_url, TYPE.secret);
    return sds;
  }

  /**
   * ACK a response and wait until the server recorded this very ACK (this node, type and version;
   * not any stream's). As Envoy does, it repeats the subscribed names. The 60 s limit is only a
   * safety net against a hang.
   */
  async ack(r: DiscoveryResponse): Promise<void> {
    const acked = this.awaitAcks ? this.serverAck(r) : undefined;
    const names = r.type_url === TYPE.secret ? ['default', 'ROOTCA'] : [];
    this.send({ type_url: r.type_url, response_nonce: r.nonce, version_info: r.version_info, resource_names: names });
    await acked;
  }

  private async serverAck(r: DiscoveryResponse): Promise<void> {
    for await (const [e] of on(this.cp.ads, 'ack', { signal: AbortSignal.timeout(60_000) }) as AsyncIterable<[AckEvent]>) {
      if (e.stream.node.id === this.nodeId && e.typeUrl === r.type_url && e.version === r.version_info) return;
    }
  }
}

/** Decoded Secrets of an SDS response, by name. */
export function secretsOf(r: DiscoveryResponse): Record<string, any> {
  const out: Record<string, any> = {};
  for (const res of r.resources) {
    const m = decodeResource(TYPE.secret, res.value) as any;
    out[m.name] = m;
  }
  return out;
}

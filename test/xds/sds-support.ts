// An ADS client as an Envoy sidecar would be: a TLS stream to the controller trusting the mesh
// root, node metadata NAMESPACE/POD_NAME/PROXY_KIND, and the pod's projected ServiceAccount token
// as "authorization: Bearer" metadata. Plus the controller's TLS xDS port, for tests.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { ControlPlane } from '../../src/controller/controlplane.ts';
import type { CertificateAuthority } from '../../src/pki/index.ts';
import type { DiscoveryRequest, DiscoveryResponse } from '../../src/xds/ads.ts';
import { decodeResource } from '../../src/xds/encode.ts';
import { TYPE } from '../../src/xds/protos.ts';

/** The name the controller's serving certificate carries (and the client checks). */
export const CONTROLLER_HOST = 'mesh-controller.mesh-system.svc';

/** The same AdsServer on a second gRPC server over TLS (what `--xds-tls-port` serves); resolves to its port. */
export async function startTlsAds(cp: ControlPlane, ca: CertificateAuthority): Promise<{ server: grpc.Server; port: number }> {
  const serving = await ca.issueServingCert({ dnsNames: [CONTROLLER_HOST] });
  const server = new grpc.Server();
  server.addService(cp.ads.serviceDefinition(), cp.ads.handlers({ transport: 'tls' }));
  const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(serving.certPem), private_key: Buffer.from(serving.keyPem) }], false);
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? rej(e) : res(p))));
  return { server, port };
}

/** One ADS stream with a response queue. */
export class AdsStream {
  readonly call: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  private readonly queue: DiscoveryResponse[] = [];
  private waiter: ((r: DiscoveryResponse) => void) | undefined;

  private readonly awaitAcks: boolean;

  /**
   * `rootPem` given: TLS trusting it; otherwise plaintext. `cp` supplies the service definition and,
   * unless `awaitAcks` is false (a controller in another process or behind runController), the
   * 'ack' events ack() waits for.
   */
  constructor(readonly cp: ControlPlane, port: number, readonly nodeId: string, readonly meta: { namespace: string; pod: string }, opts: { token?: string; rootPem?: string; awaitAcks?: boolean } = {}) {
    this.awaitAcks = opts.awaitAcks ?? true;
    const Client = grpc.makeGenericClientConstructor(cp.ads.serviceDefinition(), 'AggregatedDiscoveryService');
    const client = opts.rootPem
      ? new Client(`127.0.0.1:${port}`, grpc.credentials.createSsl(Buffer.from(opts.rootPem)), { 'grpc.ssl_target_name_override': CONTROLLER_HOST, 'grpc.default_authority': CONTROLLER_HOST })
      : new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const md = new grpc.Metadata();
    if (opts.token) md.set('authorization', `Bearer ${opts.token}`);
    this.call = (client as unknown as { StreamAggregatedResources(md: grpc.Metadata): grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse> }).StreamAggregatedResources(md);
    this.call.on('data', (r: DiscoveryResponse) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w(r);
      } else this.queue.push(r);
    });
    this.call.on('error', () => undefined);
  }

  send(req: DiscoveryRequest): void {
    // protobufjs's Struct spells Value's fields in camelCase.
    const fields = { NAMESPACE: { stringValue: this.meta.namespace }, POD_NAME: { stringValue: this.meta.pod }, PROXY_KIND: { stringValue: 'sidecar' } };
    this.call.write({ node: { id: this.nodeId, user_agent_name: 'envoy', metadata: { fields } } as DiscoveryRequest['node'], ...req });
  }

  next(timeoutMs = 10_000): Promise<DiscoveryResponse> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.nodeId}: no response`)), timeoutMs);
      this.waiter = (r) => {
        clearTimeout(t);
        resolve(r);
      };
    });
  }

  /** The next response, or undefined when none comes within `ms`. */
  async nothing(ms = 300): Promise<DiscoveryResponse | undefined> {
    return this.next(ms).catch(() => undefined);
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

  /** ACK a response and wait until the server recorded it. As Envoy does, it repeats the subscribed names. */
  async ack(r: DiscoveryResponse): Promise<void> {
    const acked = this.awaitAcks ? once(this.cp.ads, 'ack', { signal: AbortSignal.timeout(10_000) }) : undefined;
    const names = r.type_url === TYPE.secret ? ['default', 'ROOTCA'] : [];
    this.send({ type_url: r.type_url, response_nonce: r.nonce, version_info: r.version_info, resource_names: names });
    await acked;
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

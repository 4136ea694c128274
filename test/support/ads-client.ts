// One ADS test client for every xDS test: a stream to a control plane (plaintext, or TLS trusting a
// root and sending a bearer token as an Envoy sidecar does) with a response queue; state of the
// world (StreamAggregatedResources) by default, incremental (DeltaAggregatedResources) with
// `delta: true` (see DeltaAdsClient).
import * as grpc from '@grpc/grpc-js';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse } from '../../src/xds/ads.ts';

/** The name the controller's serving certificate carries (and TLS clients check). */
export const CONTROLLER_HOST = 'mesh-controller.mesh-system.svc';

export interface AdsClientOptions {
  /** Send `authorization: Bearer TOKEN` on the stream. */
  token?: string;
  /** Connect over TLS trusting this root (checked for CONTROLLER_HOST); plaintext otherwise. */
  rootPem?: string;
  /** Node user agent (Envoy sends "envoy"; default "test"). */
  userAgent?: string;
  /** Build version as Envoy reports it (user_agent_build_version), e.g. "1.32.3". */
  buildVersion?: string;
  /** Open DeltaAggregatedResources instead of StreamAggregatedResources (use DeltaAdsClient for the types). */
  delta?: boolean;
}

/** One ADS stream with a response queue; node metadata values are strings. */
export class AdsClient<Req extends { node?: DiscoveryRequest['node'] } = DiscoveryRequest, Res = DiscoveryResponse> {
  readonly call: grpc.ClientDuplexStream<Req, Res>;
  private readonly queue: Res[] = [];
  private waiter: ((r: Res) => void) | undefined;
  private failer: ((why: string) => void) | undefined;
  /** Why the stream ended, once it has. */
  private ended: string | undefined;

  constructor(definition: grpc.ServiceDefinition, port: number, readonly nodeId: string, readonly metadata: Record<string, string>, readonly opts: AdsClientOptions = {}) {
    const Client = grpc.makeGenericClientConstructor(definition, 'AggregatedDiscoveryService');
    const client = opts.rootPem
      ? new Client(`127.0.0.1:${port}`, grpc.credentials.createSsl(Buffer.from(opts.rootPem)), { 'grpc.ssl_target_name_override': CONTROLLER_HOST, 'grpc.default_authority': CONTROLLER_HOST })
      : new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const md = new grpc.Metadata();
    if (opts.token) md.set('authorization', `Bearer ${opts.token}`);
    const methods = client as unknown as Record<'StreamAggregatedResources' | 'DeltaAggregatedResources', (md: grpc.Metadata) => grpc.ClientDuplexStream<Req, Res>>;
    this.call = opts.delta ? methods.DeltaAggregatedResources.call(client, md) : methods.StreamAggregatedResources.call(client, md);
    this.call.on('data', (r: Res) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w(r);
      } else this.queue.push(r);
    });
    const end = (why: string): void => {
      this.ended ??= why;
      this.failer?.(`stream ended (${why})`);
    };
    this.call.on('error', (e: Error) => end(e.message));
    this.call.on('end', () => end('closed by the server'));
  }

  /** The node every request carries (protobufjs spells Struct values in camelCase). */
  get node(): DiscoveryRequest['node'] {
    const fields = Object.fromEntries(Object.entries(this.metadata).map(([k, v]) => [k, { stringValue: v }]));
    const [major_number, minor_number, patch] = (this.opts.buildVersion ?? '').split('.').map(Number);
    const build = this.opts.buildVersion ? { user_agent_build_version: { version: { major_number, minor_number, patch } } } : {};
    return { id: this.nodeId, user_agent_name: this.opts.userAgent ?? 'test', ...build, metadata: { fields } } as DiscoveryRequest['node'];
  }

  send(req: Req): void {
    this.call.write({ node: this.node, ...req });
  }

  /**
   * The next response: queued, or the next to arrive. Fails as soon as the stream ends or errors;
   * `timeoutMs` is only a safety net against a hang (a test that expects nothing uses nothing()).
   */
  next(timeoutMs = 60_000): Promise<Res> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    if (this.ended) return Promise.reject(new Error(`${this.nodeId}: stream ended (${this.ended})`));
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(t);
        // A waiter that gave up must not stay registered: it would swallow the next response.
        if (this.waiter === waiter) this.waiter = undefined;
        if (this.failer === fail) this.failer = undefined;
      };
      const waiter = (r: Res): void => {
        done();
        resolve(r);
      };
      const fail = (why: string): void => {
        done();
        reject(new Error(`${this.nodeId}: ${why}`));
      };
      const t = setTimeout(() => fail(`no response in ${timeoutMs} ms`), timeoutMs);
      this.waiter = waiter;
      this.failer = fail;
    });
  }

  /** The next response, or undefined when none comes within `ms`. */
  async nothing(ms = 300): Promise<Res | undefined> {
    return this.next(ms).catch(() => undefined);
  }

  /** Forget queued responses. */
  drain(): void {
    this.queue.length = 0;
  }
}

/** An incremental (delta) ADS stream: requests subscribe and unsubscribe names, responses carry changes only. */
export class DeltaAdsClient extends AdsClient<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
  constructor(definition: grpc.ServiceDefinition, port: number, nodeId: string, metadata: Record<string, string>, opts: AdsClientOptions = {}) {
    super(definition, port, nodeId, metadata, { ...opts, delta: true });
  }

  /** ACK a response (response_nonce, no error_detail). */
  ack(r: DeltaDiscoveryResponse): void {
    this.send({ type_url: r.type_url, response_nonce: r.nonce });
  }
}

import { createHash } from 'node:crypto';
import type { KubeObject } from '../cluster/types.js';
import type { MeshModel } from '../model/types.js';
import { isObject } from '../util/object.js';
import { gatewayOf, gatewaySecretName } from '../xds/gateway.js';
import { encodeSecrets, type SecretProvider, type SecretSet, type SecretStreamInfo, type StreamIdentity, type StreamSecrets } from '../xds/secrets.js';
import type { Msg } from '../xds/translate.js';

/** What {@link GatewaySecrets} reads from the control plane: the current model and the objects behind it. */
export interface GatewaySecretSource {
  model(): MeshModel | undefined;
  /** The Secret `NS/NAME` as last delivered by the source, or undefined. */
  secret(namespace: string, name: string): KubeObject | undefined;
}

/** The certificate chain and key of a kubernetes.io/tls Secret, decoded; undefined when it has none. */
function tlsPair(s: KubeObject | undefined): { crt: string; key: string } | undefined {
  const data = s && isObject(s.data) ? s.data : {};
  const crt = data['tls.crt'];
  const key = data['tls.key'];
  if (typeof crt !== 'string' || typeof key !== 'string' || !crt || !key) return undefined;
  return { crt: Buffer.from(crt, 'base64').toString('utf8'), key: Buffer.from(key, 'base64').toString('utf8') };
}

/**
 * SDS for ingress gateways: a gateway proxy's stream gets, besides its own workload certificate
 * (from the wrapped provider: `default` and `ROOTCA`, for mTLS to meshed backends), the TLS
 * Secrets its Gateway's HTTPS listeners name, as `kubernetes://NS/NAME`. Only a stream the wrapped
 * provider authenticated as the Gateway's own ServiceAccount (`NAME-mesh` in its namespace) gets
 * them: a node cannot claim its way to another Gateway's keys. Key bytes go only into the encoded
 * response; versions come from the Secrets' resourceVersion and certificate, never from the key.
 */
export class GatewaySecrets implements SecretProvider {
  private readonly sessions = new Set<GatewayStreamSecrets>();

  constructor(
    private readonly inner: SecretProvider,
    private readonly source: GatewaySecretSource,
  ) {}

  open(info: SecretStreamInfo): StreamSecrets {
    if (info.node.kind !== 'gateway') return this.inner.open(info);
    const s = new GatewayStreamSecrets(info, this.source, () => this.sessions.delete(s));
    s.attach(this.inner.open({ ...info, onChange: () => s.changed() }));
    this.sessions.add(s);
    return s;
  }

  /** The model or Secrets changed: streams whose certificates changed are told to push. */
  refresh(): void {
    for (const s of this.sessions) s.changed();
  }
}

class GatewayStreamSecrets implements StreamSecrets {
  private base: StreamSecrets | undefined;
  private last: { key: string; set: SecretSet } | undefined;

  constructor(
    private readonly info: SecretStreamInfo,
    private readonly source: GatewaySecretSource,
    private readonly forget: () => void,
  ) {}

  attach(base: StreamSecrets): void {
    this.base = base;
  }

  /** The listener Secrets this stream may have now, by SDS name, with what versions them. */
  private listenerSecrets(identity: StreamIdentity): { messages: Record<string, Msg>; stamp: string } {
    const model = this.source.model();
    const gw = model ? gatewayOf(model, this.info.node) : undefined;
    const messages: Record<string, Msg> = {};
    const stamps: string[] = [];
    if (!gw || !identity.authenticated || identity.namespace !== gw.namespace || identity.serviceAccount !== gw.workload) return { messages, stamp: '' };
    const keys = [...new Set(gw.listeners.filter((l) => l.programmed).flatMap((l) => l.certificates))].sort();
    for (const key of keys) {
      const [ns, name] = key.split('/') as [string, string];
      const secret = this.source.secret(ns, name);
      const pair = tlsPair(secret);
      if (!pair) continue;
      const sdsName = gatewaySecretName(key);
      messages[sdsName] = { name: sdsName, tls_certificate: { certificate_chain: { inline_string: pair.crt }, private_key: { inline_string: pair.key } } };
      stamps.push(`${key}@${secret?.metadata.resourceVersion ?? ''}:${createHash('sha256').update(pair.crt).digest('hex').slice(0, 12)}`);
    }
    return { messages, stamp: stamps.join(',') };
  }

  current(): SecretSet | undefined {
    const base = this.base?.current();
    if (!base || !this.base) return base;
    const { messages, stamp } = this.listenerSecrets(this.base.identity());
    if (!stamp) return base;
    const key = `${base.version}|${stamp}`;
    if (this.last?.key !== key) {
      const extra = encodeSecrets(messages, '');
      const resources = new Map([...base.resources, ...extra.resources]);
      this.last = { key, set: { version: `${base.version}-${createHash('sha256').update(stamp).digest('hex').slice(0, 8)}`, resources } };
    }
    return this.last.set;
  }

  identity(): StreamIdentity {
    return this.base?.identity() ?? { authenticated: false, transport: this.info.transport, reason: 'starting' };
  }

  want(): void {
    this.base?.want();
  }

  /** Push when what current() would serve has changed. */
  changed(): void {
    const before = this.last?.set.version;
    const now = this.current()?.version;
    if (before !== now || now === undefined || !this.last) this.info.onChange();
  }

  close(): void {
    this.base?.close();
    this.last = undefined;
    this.forget();
  }
}

import type { Caller, CertificateAuthority, IssueResult } from '../pki/index.js';
import { IssuanceError } from '../pki/errors.js';
import { formatSpiffeId } from '../pki/spiffe.js';
import { encodeSecrets, noSecrets, secretMessages, secretsVersion, type SecretProvider, type SecretSet, type SecretStreamInfo, type ServedCertificate, type StreamIdentity, type StreamSecrets } from '../xds/secrets.js';

/** Options of {@link WorkloadIdentities}. */
export interface WorkloadIdentityOptions {
  /** The mesh CA, or undefined when this controller has no root CA (then no stream gets secrets). */
  ca: () => CertificateAuthority | undefined;
  /**
   * Why streams cannot be authenticated at all, e.g. the files source, which has no Kubernetes
   * TokenReview. When set, no stream gets secrets and syncz shows this as the reason.
   */
  disabled?: string;
  /** Clock for rotation decisions (default: the system clock); give the CA the same one. */
  clock?: () => Date;
  /**
   * Whether a pod still exists in the model (uid compared when both are known). A pod-bound
   * identity whose pod is gone is not renewed. Default: always true.
   */
  podExists?: (namespace: string, name: string, uid: string | undefined) => boolean;
  /** How often to look for certificates due for renewal (default 60 s; 0: only when sweep() is called). */
  checkIntervalMs?: number;
  /** Diagnostic lines; identities, serials and reasons only, never a token or key. */
  log?: (line: string) => void;
  /** Counts for metrics: a certificate issued (`first` or `renewal`), a stream refused, or the CA failing to sign. */
  onEvent?: (event: 'first' | 'renewal' | 'refused' | 'failed') => void;
}

/** Why the files source serves no secrets (syncz shows it per stream). */
export const FILES_SOURCE_NO_SDS = 'the files source has no Kubernetes TokenReview to authenticate proxies, so SDS secrets are not served (use --source kubernetes)';

type IssuedWithKey = IssueResult & { readonly keyPem: string };

/**
 * SDS issuance for Envoy sidecars on the ADS stream ("agent-less"): each stream that runs over
 * TLS and presents a projected ServiceAccount token (`authorization: Bearer`, audience mesh-ca)
 * is authenticated once by TokenReview; its node must claim the same namespace (and pod, for a
 * pod-bound token). The controller then generates a key pair for the stream, has the CA sign it
 * as spiffe://TD/ns/NS/sa/SA and serves `default` (certificate + key) and `ROOTCA` (trust
 * bundle). The key lives only in this stream's state and in the encoded response. Certificates are
 * re-issued at half their lifetime and when the trust bundle changes, while the identity is still
 * valid (a pod-bound identity whose pod was deleted is not renewed).
 */
export class WorkloadIdentities implements SecretProvider {
  readonly opts: WorkloadIdentityOptions;
  private readonly sessions = new Set<IdentitySession>();
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: WorkloadIdentityOptions) {
    this.opts = opts;
  }

  /** The current time (the injected clock). */
  now(): Date {
    return this.opts.clock?.() ?? new Date();
  }

  log(line: string): void {
    this.opts.log?.(line);
  }

  open(info: SecretStreamInfo): StreamSecrets {
    const s = new IdentitySession(this, info);
    this.sessions.add(s);
    s.start();
    return s;
  }

  /** Forget a closed session (called by the session). */
  forget(s: IdentitySession): void {
    this.sessions.delete(s);
  }

  /** Start the renewal timer (unref'd: it never keeps the process alive). */
  start(): void {
    const every = this.opts.checkIntervalMs ?? 60_000;
    if (every <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.sweep(), every);
    this.timer.unref();
  }

  /** Stop the renewal timer. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Renew what is due now: certificates past their renewal time or issued under another trust
   * bundle, unless their pod is gone; retry authentication that failed because the TokenReview
   * call failed. Resolves when every renewal has finished (tests await it after moving the clock).
   */
  async sweep(): Promise<void> {
    // Never rejects: it runs from a timer and after model builds; one stream's failure is logged, the others go on.
    await Promise.all([...this.sessions].map((s) => s.sweep().catch((err: unknown) => this.log(`SDS: renewal failed: ${err instanceof Error ? err.message : String(err)}`))));
  }

  /** Streams with an identity, for tests and debugging (public data). */
  identities(): StreamIdentity[] {
    return [...this.sessions].map((s) => s.identity());
  }
}

const NO_TOKEN = 'no ServiceAccount token: the stream carries no "authorization: Bearer TOKEN" metadata';
const PLAINTEXT = 'plaintext stream: key material is only sent over TLS (connect to the TLS xDS port)';
const NO_CA = 'this controller has no root CA, so it cannot issue workload certificates';

class IdentitySession implements StreamSecrets {
  private readonly owner: WorkloadIdentities;
  private readonly info: SecretStreamInfo;
  #token: string | undefined;
  private state: 'pending' | 'refused' | 'ok' = 'pending';
  private reason: string | undefined;
  private caller: Caller | undefined;
  private wanted = false;
  private closed = false;
  private issuing: Promise<void> | undefined;
  private set: SecretSet | undefined;
  private bundlePem = '';
  private cert: ServedCertificate | undefined;
  /** Authentication may be retried: the TokenReview call itself failed. */
  private retryAuth = false;

  constructor(owner: WorkloadIdentities, info: SecretStreamInfo) {
    this.owner = owner;
    this.info = info;
    this.#token = info.token;
  }

  private get label(): string {
    return `stream ${this.info.streamId} (${this.info.node.id})`;
  }

  start(): void {
    const o = this.owner.opts;
    if (o.disabled) return this.refuse(o.disabled, false);
    if (!o.ca()) return this.refuse(NO_CA, false);
    if (this.info.transport !== 'tls') return this.refuse(PLAINTEXT, false);
    if (!this.#token) return this.refuse(NO_TOKEN, false);
    void this.authenticate();
  }

  private refuse(reason: string, log = true): void {
    this.state = 'refused';
    this.reason = reason;
    this.#token = this.retryAuth ? this.#token : undefined;
    if (log) this.owner.log(`SDS: ${this.label}: no secrets: ${reason}`);
    this.owner.opts.onEvent?.('refused');
    this.info.onChange();
  }

  private async authenticate(): Promise<void> {
    const ca = this.owner.opts.ca();
    const token = this.#token;
    if (!ca || !token) return this.refuse(ca ? NO_TOKEN : NO_CA);
    let caller: Caller;
    try {
      caller = await ca.authenticate(token);
    } catch (err) {
      if (this.closed) return;
      this.retryAuth = err instanceof IssuanceError && err.reason === 'failed-precondition';
      const msg = err instanceof IssuanceError ? `${err.reason}: ${err.message}` : 'the token could not be reviewed';
      return this.refuse(this.retryAuth ? `${msg} (retrying)` : msg);
    }
    if (this.closed) return;
    this.retryAuth = false;
    this.#token = undefined; // reviewed: the identity is what we keep, not the token
    const node = this.info.node;
    if (node.namespace !== caller.namespace) {
      return this.refuse(`the node claims namespace "${node.namespace ?? ''}" but its token is for namespace "${caller.namespace}" (ServiceAccount ${caller.serviceAccount})`);
    }
    if (caller.pod && node.pod !== caller.pod.name) {
      return this.refuse(`the node claims pod "${node.pod ?? ''}" but its token is bound to pod "${caller.pod.name}"`);
    }
    this.caller = caller;
    this.state = 'ok';
    this.reason = undefined;
    this.owner.log(`SDS: ${this.label} authenticated as ${caller.namespace}/${caller.serviceAccount}${caller.pod ? ` (pod ${caller.pod.name})` : ''}`);
    if (this.wanted) await this.issue();
    else this.info.onChange();
  }

  current(): SecretSet | undefined {
    if (this.state === 'pending') return undefined;
    if (this.state === 'refused') return this.set ?? noSecrets();
    return this.set;
  }

  identity(): StreamIdentity {
    const id: StreamIdentity = { authenticated: this.state === 'ok', transport: this.info.transport };
    if (this.reason) id.reason = this.reason;
    else if (this.state === 'pending') id.reason = 'authenticating';
    const c = this.caller;
    if (c) {
      const ca = this.owner.opts.ca();
      if (ca) id.spiffeId = formatSpiffeId(ca.trustDomain, c.namespace, c.serviceAccount);
      id.namespace = c.namespace;
      id.serviceAccount = c.serviceAccount;
      if (c.pod) id.pod = c.pod.name;
    }
    if (this.cert) id.certificate = { ...this.cert };
    return id;
  }

  want(): void {
    this.wanted = true;
    if (this.state === 'ok' && !this.set && !this.issuing) void this.issue();
  }

  /** Issue (or re-issue) the stream's certificate and key; one at a time. */
  private issue(): Promise<void> {
    if (this.issuing) return this.issuing;
    this.issuing = this.doIssue().finally(() => {
      this.issuing = undefined;
    });
    return this.issuing;
  }

  private async doIssue(): Promise<void> {
    const ca = this.owner.opts.ca();
    const caller = this.caller;
    if (!ca || !caller || this.closed) return;
    let r: IssuedWithKey;
    try {
      r = await ca.issueWithKey(caller);
    } catch (err) {
      if (this.closed) return;
      const msg = err instanceof IssuanceError ? `${err.reason}: ${err.message}` : 'the CA failed to sign';
      this.reason = `cannot issue: ${msg}`;
      this.owner.opts.onEvent?.('failed');
      this.owner.log(`SDS: ${this.label}: cannot issue ${ca.trustDomain}/${caller.namespace}/${caller.serviceAccount}: ${msg}`);
      if (!this.set) this.info.onChange();
      return;
    }
    if (this.closed) return;
    const { rotateAt } = await import('../pki/rotation.js');
    const leaf = r.certChainPem;
    this.set = encodeSecrets(secretMessages({ certChainPem: leaf, keyPem: r.keyPem, trustBundlePem: r.trustBundlePem }), secretsVersion(r.serial, r.trustBundlePem));
    this.bundlePem = r.trustBundlePem;
    this.cert = { serial: r.serial, notBefore: r.notBefore, notAfter: r.notAfter, renewAt: rotateAt(leaf).toISOString(), renewing: true, issued: (this.cert?.issued ?? 0) + 1 };
    this.reason = undefined;
    this.owner.log(`SDS: issued ${r.spiffeId} to ${this.label}: serial ${r.serial}, valid until ${r.notAfter}`);
    this.owner.opts.onEvent?.(this.cert.issued > 1 ? 'renewal' : 'first');
    this.info.onChange();
  }

  async sweep(): Promise<void> {
    if (this.closed) return;
    if (this.state === 'refused' && this.retryAuth && this.#token) {
      this.state = 'pending';
      await this.authenticate();
      return;
    }
    if (this.state !== 'ok' || !this.set || !this.cert || !this.caller) return;
    const ca = this.owner.opts.ca();
    if (!ca) return;
    const due = this.owner.now().getTime() >= Date.parse(this.cert.renewAt);
    const bundleChanged = ca.trustBundlePem() !== this.bundlePem;
    if (!due && !bundleChanged) return;
    const pod = this.caller.pod;
    if (pod && !(this.owner.opts.podExists?.(this.caller.namespace, pod.name, pod.uid) ?? true)) {
      if (this.cert.renewing) {
        this.cert.renewing = false;
        this.reason = `pod ${this.caller.namespace}/${pod.name} no longer exists: its certificate is not renewed`;
        this.owner.log(`SDS: ${this.label}: ${this.reason}`);
      }
      return;
    }
    await this.issue();
  }

  close(): void {
    this.closed = true;
    this.#token = undefined;
    this.set = undefined;
    this.owner.forget(this);
  }
}

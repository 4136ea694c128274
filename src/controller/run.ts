import type { Server as HttpsServer } from 'node:https';
import { hostname } from 'node:os';
import type { LeaderElector } from './leader.js';
import type { TrustBundlePublisher, WebhookCaBundle } from './trust-bundle.js';
import type { RouteStatusWriter } from './route-status.js';
import type { PolicyStatusWriter } from './policy-status.js';
import type { GatewayStatusWriter } from './gateway-status.js';
import type { GatewayProvisioner } from './gateway-provision.js';
import type { Cluster, KubeObject } from '../cluster/types.js';
import type { Values } from '../manifests/values.js';
import { VERSION } from '../version.js';
import type { CertAndKey, CertificateAuthority } from '../pki/index.js';
import type { Server as GrpcServer } from '@grpc/grpc-js';
import type { RootReloader, RootReloaderOptions } from './root-reload.js';
import type { ServingCert } from './serving-cert.js';
import type { Ui } from '../ui/context.js';
import { CONTROLLER_NAME, DEBUG_TOKEN_SECRET, DEFAULT_TRUST_DOMAIN, MESH_CONFIG_NAME, ROOT_CA_SECRET } from '../constants.js';
import { usageError } from '../errors.js';
import { parseDuration } from '../duration.js';
import type { MtlsMode } from '../model/types.js';
import { ControlPlane } from './controlplane.js';
import type { Source } from '../cluster/source.js';
import { startIntrospection } from './http.js';

/** Options of `mesh controller`, parsed. */
export interface ControllerOptions {
  source: 'files' | 'kubernetes';
  /** Manifest files or directories (files source). */
  paths: string[];
  address: string;
  /**
   * Serve ADS without TLS on xdsPort (proxyless gRPC clients with insecure channel credentials,
   * tests). Off by default: anyone who reaches the port gets the config of any namespace it claims.
   */
  plaintextXds?: boolean;
  /** Plaintext ADS port (only with plaintextXds). */
  xdsPort: number;
  /** TLS port: ADS and the CA service, serving certificate from our CA (only with a root CA). */
  xdsTlsPort: number;
  metricsPort: number;
  debounceMs: number;
  trustDomain?: string;
  defaultMtls?: MtlsMode;
  kubeconfig?: string;
  context?: string;
  /** HTTPS admission webhook port (POST /inject). */
  webhookPort: number;
  /** Values file (files source); the kubernetes source reads the mesh-config ConfigMap. */
  valuesFile?: string;
  /** Root CA certificate and key files (files source); the kubernetes source reads Secret ROOT_CA_SECRET. */
  caCert?: string;
  caKey?: string;
  /** Namespace the mesh is installed in (mesh-config, the root CA Secret, the Service DNS names). */
  meshNamespace: string;
  /** Leader election identity (default $POD_NAME, else HOSTNAME-PID); tests run several replicas in one process. */
  identity?: string;
  /** How often leader election tries to acquire or renew (default 2 s); tests of a takeover shorten it. */
  leaderRetryMs?: number;
  /** How often the kubernetes source re-reads the root CA Secret (default ROOT_RECHECK_MS); tests shorten it. */
  rootRecheckMs?: number;
}

/** Raw flag values as commander hands them over. */
export interface RawControllerOptions {
  source?: string;
  paths: string[];
  address?: string;
  plaintextXds?: boolean;
  xdsPort?: string;
  xdsTlsPort?: string;
  metricsPort?: string;
  debounce?: string;
  trustDomain?: string;
  defaultMtls?: string;
  webhookPort?: string;
  values?: string;
  caCert?: string;
  caKey?: string;
  meshNamespace?: string;
}

function port(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw usageError(`${flag} ${v}: not a port number`, `give 0-65535 (0 picks a free port), e.g. ${flag} ${dflt}`);
  return n;
}

/** The model options that come from the installed values (docs/authz.md, docs/egress.md). */
export function modelValues(v: Values): { defaultDeny: boolean; registryOnly: boolean } {
  return { defaultDeny: v.authorization?.defaultDeny === true, registryOnly: v.outboundTrafficPolicy === 'registry-only' };
}

/** Validate and normalise `mesh controller` flags (pure; throws usage errors, exit 2). */
export function validateControllerOptions(raw: RawControllerOptions, defaults: { xdsPort: number; xdsTlsPort?: number; metricsPort: number; webhookPort?: number; namespace?: string }): ControllerOptions {
  const source = raw.source ?? (raw.paths.length ? 'files' : 'kubernetes');
  if (source !== 'files' && source !== 'kubernetes') throw usageError(`--source ${source}: unknown source`, 'use --source files DIR or --source kubernetes');
  if (source === 'files' && !raw.paths.length) throw usageError('--source files needs a file or directory of manifests', 'e.g. mesh controller --source files ./k8s');
  if (source === 'kubernetes' && raw.paths.length) throw usageError(`--source kubernetes takes no paths (got ${raw.paths.join(' ')})`, 'drop the paths, or use --source files');
  const debounceMs = raw.debounce === undefined ? 100 : parseDuration(raw.debounce, '--debounce');
  const mtls = raw.defaultMtls?.toUpperCase();
  if (mtls !== undefined && mtls !== 'STRICT' && mtls !== 'PERMISSIVE' && mtls !== 'DISABLE') throw usageError(`--default-mtls ${raw.defaultMtls}: unknown mode`, 'use STRICT, PERMISSIVE or DISABLE');
  if (raw.xdsPort !== undefined && !raw.plaintextXds) throw usageError(`--xds-port ${raw.xdsPort}: the plaintext xDS port is off`, 'add --plaintext-xds to serve ADS without TLS (trusted networks only), or drop --xds-port: sidecars use the TLS port (--xds-tls-port)');
  if (source === 'files' && !raw.plaintextXds && raw.caCert === undefined) throw usageError('--source files without --ca-cert/--ca-key has no TLS xDS port, and the plaintext one is off: nothing would serve xDS', 'give the root CA (--ca-cert, --ca-key), or add --plaintext-xds (trusted networks only)');
  const opts: ControllerOptions = {
    source,
    plaintextXds: raw.plaintextXds === true,
    paths: raw.paths,
    address: raw.address ?? '0.0.0.0',
    xdsPort: port('--xds-port', raw.xdsPort, defaults.xdsPort),
    xdsTlsPort: port('--xds-tls-port', raw.xdsTlsPort, defaults.xdsTlsPort ?? 15012),
    metricsPort: port('--metrics-port', raw.metricsPort, defaults.metricsPort),
    debounceMs,
    webhookPort: port('--webhook-port', raw.webhookPort, defaults.webhookPort ?? 15017),
    meshNamespace: raw.meshNamespace ?? defaults.namespace ?? 'mesh-system',
  };
  const bound = [['--xds-port', opts.plaintextXds ? opts.xdsPort : 0], ['--xds-tls-port', opts.xdsTlsPort], ['--webhook-port', opts.webhookPort], ['--metrics-port', opts.metricsPort]] as const;
  for (const [i, [flag, p]] of bound.entries()) {
    const same = bound.slice(i + 1).find(([, q]) => p !== 0 && q === p);
    if (same) throw usageError(`${flag} and ${same[0]} are both ${p}`, 'give each server its own port');
  }
  if ((raw.caCert === undefined) !== (raw.caKey === undefined)) throw usageError('--ca-cert and --ca-key go together', 'give both the root CA certificate and its key, or neither');
  if (source === 'kubernetes' && (raw.caCert || raw.values)) throw usageError(`${raw.caCert ? '--ca-cert/--ca-key' : '--values'} only apply to --source files`, `the kubernetes source reads Secret ${ROOT_CA_SECRET} and ConfigMap ${MESH_CONFIG_NAME}`);
  if (raw.values) opts.valuesFile = raw.values;
  if (raw.caCert) opts.caCert = raw.caCert;
  if (raw.caKey) opts.caKey = raw.caKey;
  if (raw.trustDomain) opts.trustDomain = raw.trustDomain;
  if (mtls) opts.defaultMtls = mtls;
  return opts;
}

/**
 * Why a server could not listen, as a usage error (exit 2) naming the flag: a port in use, a port
 * that needs privileges, or an --address this machine cannot listen on. Node reports errno codes;
 * @grpc/grpc-js only puts them in its message ("No address added ... [listen EADDRINUSE ...]"), so
 * the code is looked for in both. Other errors pass through unchanged.
 */
export function listenError(err: unknown, flag: string, address: string, port: number): unknown {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  const text = message.includes(code) ? message : `${code}: ${message}`;
  if (/EADDRINUSE/.test(text)) return usageError(`${flag} ${port}: ${address}:${port} is already in use`, `stop the process listening there, or give ${flag} another port (0 picks a free one)`);
  if (/EACCES/.test(text)) return usageError(`${flag} ${port}: permission denied listening on ${address}:${port}`, `ports below 1024 need privileges: give ${flag} a higher port`);
  if (/ENOTFOUND|EAI_AGAIN|EADDRNOTAVAIL|EAFNOSUPPORT|EINVAL|Name resolution failed|No address added/.test(text)) {
    return usageError(`--address ${address}: cannot listen on it (${text.split('\n')[0]})`, 'give an IP address of this machine: 0.0.0.0 (all IPv4), :: (all), or 127.0.0.1 (local only)');
  }
  return err;
}

/** Start a server, turning a failure to listen into the usage error of {@link listenError}. */
async function bind<T>(flag: string, address: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    throw listenError(err, flag, address, port);
  }
}

/** How often the kubernetes source re-reads Secret ROOT_CA_SECRET for a rotated root. */
export const ROOT_RECHECK_MS = 30_000;

/**
 * Run the control plane until SIGINT/SIGTERM: the source, plaintext ADS on --xds-port (only with
 * --plaintext-xds), the
 * introspection server on --metrics-port and, with a root CA, the TLS port (ADS + CA service) on
 * --xds-tls-port and the admission webhook on --webhook-port, both serving a certificate that is
 * renewed at half-life and when the root changes. SIGHUP reloads a files source and re-reads the
 * root (files or Secret; the Secret is also re-read every ROOT_RECHECK_MS). Resolves to the exit code.
 */
export async function runController(opts: ControllerOptions, ui: Ui, signals: NodeJS.EventEmitter = process): Promise<number> {
  const log = (line: string): void => {
    ui.err.write(`${new Date().toISOString()} ${line}\n`);
  };
  let source: Source;
  let reload: (() => Promise<void>) | undefined;
  const setup = await import('./setup.js');
  let cluster: Cluster | undefined;
  let values: () => Promise<Values>;
  let kubeVersion: string | undefined;
  let root: CertAndKey | undefined;
  let noRoot = '';
  if (opts.source === 'files') {
    const { FilesSource } = await import('../cluster/files-source.js');
    const fs = new FilesSource(opts.paths, { log });
    source = fs;
    reload = () => fs.reload();
    const v = await setup.valuesFromFile(opts.valuesFile);
    values = () => Promise.resolve(v);
    if (opts.caCert && opts.caKey) root = await setup.rootFromFiles(opts.caCert, opts.caKey);
    else noRoot = 'no --ca-cert/--ca-key';
  } else {
    const { KubernetesSource } = await import('../cluster/live-source.js');
    source = new KubernetesSource({ connect: { kubeconfig: opts.kubeconfig, context: opts.context }, log });
    const { connect } = await import('../cluster/index.js');
    cluster = await connect({ kubeconfig: opts.kubeconfig, context: opts.context });
    values = setup.clusterValues(cluster, opts.meshNamespace, 30_000, log);
    try {
      const v = await cluster.serverVersion();
      kubeVersion = `${v.major.replace(/\D/g, '')}.${v.minor.replace(/\D/g, '')}`;
    } catch (err) {
      log(`cannot read the Kubernetes version (native sidecars stay off in auto mode): ${(err as Error).message}`);
    }
    try {
      const r = await setup.rootFromSecret(cluster, opts.meshNamespace);
      root = r.root;
      noRoot = r.why ?? '';
    } catch (err) {
      noRoot = `cannot read Secret ${opts.meshNamespace}/${ROOT_CA_SECRET}: ${(err as Error).message}`;
    }
  }
  // --trust-domain wins; else the installed values' (the same the proxies were injected with).
  const trustDomain = opts.trustDomain ?? (await values().then((v) => v.trustDomain, () => DEFAULT_TRUST_DOMAIN));
  // Tracing and access logs as installed; a values change rolls the controller (config-hash), so read once.
  const { telemetryOf } = await import('../manifests/values.js');
  const telemetry = await values().then(telemetryOf, (err: unknown) => {
    log(`tracing and access logs off: cannot read the mesh values: ${(err as Error).message}`);
    return undefined;
  });
  const recheckMs = opts.rootRecheckMs ?? ROOT_RECHECK_MS;
  const makeCa = async (r: CertAndKey): Promise<CertificateAuthority> => {
    const { CertificateAuthority } = await import('../pki/index.js');
    const made = await CertificateAuthority.create(r, { trustDomain, reviewer: cluster ? setup.clusterReviewer(cluster) : setup.NO_REVIEWER });
    log(`CA: signing as "${made.root.subject}" for trust domain ${trustDomain}`);
    return made;
  };
  let ca: CertificateAuthority | undefined;
  if (root) ca = await makeCa(root);
  else log(`CA, admission webhook and xDS TLS port disabled: ${noRoot} (no root CA to sign with${cluster ? `; the Secret is re-read every ${recheckMs / 1000} s` : ''})`);
  let injectedNamespaces: (objects: readonly KubeObject[]) => string[] = () => [];
  // No extra services on the plaintext port: the CA service (ServiceAccount tokens) is on the TLS port only.
  const cp = new ControlPlane({
    source,
    debounceMs: opts.debounceMs,
    // Values read once: an upgrade that changes them rolls the controller pods (config-hash).
    model: { trustDomain, defaultMtls: opts.defaultMtls, ...(telemetry ? { telemetry } : {}), ...(await values().then(modelValues, () => ({}))) },
    log,
    // SDS on the ADS stream: secrets only for TLS streams with a reviewed token (the files source cannot review one).
    identity: { ca: () => ca, ...(cluster ? {} : { disabled: (await import('./identity.js')).FILES_SOURCE_NO_SDS }) },
    // What publish() writes (trust bundles by injected namespace, route, policy and Gateway status,
    // Gateway Deployments) does not read endpoints: an endpoint change, the frequent kind, skips
    // it rather than scanning every object once more (its interval still retries writes).
    onModel: (_model, _generation, endpointsOnly) => {
      if (!endpointsOnly) publish();
    },
  });
  // Only the leader writes (the trust bundle ConfigMaps, HTTPRoute status); every replica serves
  // ADS, the webhook and the CA.
  let elector: LeaderElector | undefined;
  let publisher: TrustBundlePublisher | undefined;
  let routeStatus: RouteStatusWriter | undefined;
  let policyStatus: PolicyStatusWriter | undefined;
  let gatewayStatus: GatewayStatusWriter | undefined;
  let provisioner: GatewayProvisioner | undefined;
  let statusQueued = false;
  let statusChain: Promise<void> = Promise.resolve();
  let caBundle: WebhookCaBundle | undefined;
  const publish = (): void => {
    // Gateway proxies read the trust bundle too: their namespaces get it like injected ones.
    const gatewayNs = (cp.currentModel()?.gateways ?? []).map((g) => g.namespace) ?? [];
    const injected = [...new Set([...injectedNamespaces(cp.sourceObjects()), ...gatewayNs])].sort();
    publisher?.observe(injected);
    if (!elector?.isLeader) return;
    if (ca && publisher) void publisher.sync(injected, ca.trustBundlePem());
    if (ca) void caBundle?.sync(ca.trustBundlePem());
    if (!cp.currentModel()) return;
    const current = (): { objects: readonly KubeObject[]; model: ReturnType<typeof cp.currentModel> } => ({ objects: cp.sourceObjects(), model: cp.currentModel() });
    // Status writes read the objects when they run, and asks made while one waits fold into it: a
    // write from objects older than the previous write would only conflict (and write again).
    if (!statusQueued) {
      statusQueued = true;
      statusChain = statusChain.then(async () => {
        statusQueued = false;
        const { objects, model } = current();
        if (!model) return;
        if (policyStatus) void policyStatus.sync(objects, model);
        await routeStatus?.sync(objects, model.routeConditions);
        // After the GAMMA writer: a route with both kinds of parent is written by both in turn.
        await gatewayStatus?.sync(current);
      });
    }
    // Every Gateway of a mesh class gets its Envoy Deployment and Service (values: image, ports).
    if (provisioner) void values().then((v) => provisioner?.sync(current, v), (err: unknown) => log(`gateway: no values to provision with: ${(err as Error).message}`));
  };
  if (cluster) {
    const { LeaderElector } = await import('./leader.js');
    const tb = await import('./trust-bundle.js');
    injectedNamespaces = tb.injectedNamespaces;
    publisher = new tb.TrustBundlePublisher(cluster, log);
    routeStatus = new (await import('./route-status.js')).RouteStatusWriter(cluster, log);
    policyStatus = new (await import('./policy-status.js')).PolicyStatusWriter(cluster, log);
    gatewayStatus = new (await import('./gateway-status.js')).GatewayStatusWriter(cluster, log);
    provisioner = new (await import('./gateway-provision.js')).GatewayProvisioner(cluster, VERSION, log);
    caBundle = new tb.WebhookCaBundle(cluster, opts.meshNamespace, log);
    elector = new LeaderElector({
      cluster,
      namespace: opts.meshNamespace,
      name: CONTROLLER_NAME,
      identity: opts.identity ?? (process.env.POD_NAME || `${hostname()}-${process.pid}`),
      ...(opts.leaderRetryMs === undefined ? {} : { retryMs: opts.leaderRetryMs }),
      log,
      onChange: (leader) => {
        if (!leader) return;
        publisher?.reset();
        caBundle?.reset();
        publish();
      },
    });
  }
  cp.metrics.withProcessMetrics();
  // /debug/* shows every proxy's config: loopback, or the token of a Secret only the mesh's admins read.
  let debugToken: string | undefined;
  if (cluster) {
    const { ensureDebugToken } = await import('../cluster/debug-token.js');
    debugToken = await ensureDebugToken(cluster, opts.meshNamespace).catch((err: unknown) => {
      log(`/debug endpoints: localhost only: cannot read or create Secret ${opts.meshNamespace}/${DEBUG_TOKEN_SECRET}: ${(err as Error).message}`);
      return undefined;
    });
  }
  const http = await bind('--metrics-port', opts.address, opts.metricsPort, () => startIntrospection(cp, { host: opts.address, port: opts.metricsPort }, { token: () => debugToken }));
  log(`introspection listening on ${opts.address}:${http.port} (/metrics, /debug/syncz, /debug/config_dump, /healthz, /readyz)`);
  let webhook: HttpsServer | undefined;
  let tlsXds: TlsXds | undefined;
  let xdsPort: number;
  /** Start the TLS port and the webhook, serving certificates from `authority`. */
  const startSecure = async (authority: CertificateAuthority): Promise<void> => {
    const c = cluster;
    const readRoot = c ? () => setup.rootFromSecret(c, opts.meshNamespace) : () => setup.rootFromFiles(opts.caCert as string, opts.caKey as string).then((root) => ({ root }));
    tlsXds = await startTlsXds(cp, authority, readRoot, opts, setup.controllerDnsNames(opts.meshNamespace), log, () => publish());
    const { startWebhook } = await import('./webhook.js');
    const { resolveNativeSidecar } = await import('../manifests/inject.js');
    const serving = tlsXds.serving;
    const w = await bind('--webhook-port', opts.address, opts.webhookPort, () =>
      startWebhook(serving, { host: opts.address, port: opts.webhookPort }, {
        values,
        nativeSidecar: (v) => resolveNativeSidecar(v.proxy.nativeSidecar as 'auto' | 'on' | 'off', kubeVersion).enabled,
        namespaceLabels: async (ns) => cp.namespaceLabels(ns) ?? (c ? (await c.get('v1', 'Namespace', ns))?.metadata.labels : undefined),
        log,
        observe: (outcome, seconds) => cp.metrics.observeWebhook(outcome, seconds),
      }),
    );
    webhook = w.server;
    log(`admission webhook listening on https://${opts.address}:${w.port}/inject (serving certificate for ${setup.controllerDnsNames(opts.meshNamespace).join(', ')})`);
  };
  // Started without a root (kubernetes source): the Secret may appear later (mesh install creates
  // it after the Deployment may have started); read it again until it does, then start the secure
  // side without a restart.
  let waitForRoot: NodeJS.Timeout | undefined;
  let lastNoRoot = noRoot;
  let checkingRoot = false;
  const checkForRoot = async (): Promise<void> => {
    const c = cluster;
    if (ca || !c || checkingRoot) return;
    checkingRoot = true;
    try {
      const r = await setup.rootFromSecret(c, opts.meshNamespace).catch((err: unknown) => ({ root: undefined, why: `cannot read Secret ${opts.meshNamespace}/${ROOT_CA_SECRET}: ${(err as Error).message}` }));
      if (!r.root) {
        if (r.why && r.why !== lastNoRoot) log(`CA still disabled: ${r.why}`);
        lastNoRoot = r.why ?? '';
        return;
      }
      log(`CA: Secret ${opts.meshNamespace}/${ROOT_CA_SECRET} appeared: enabling the CA, the admission webhook and the xDS TLS port`);
      const made = await makeCa(r.root);
      await startSecure(made);
      ca = made;
      if (waitForRoot) clearInterval(waitForRoot);
      waitForRoot = undefined;
      publish();
    } catch (err) {
      log(`CA: cannot start with the root from Secret ${opts.meshNamespace}/${ROOT_CA_SECRET} (will retry): ${(err as Error).message}`);
      webhook?.close();
      webhook = undefined;
      tlsXds?.stop();
      tlsXds = undefined;
    } finally {
      checkingRoot = false;
    }
  };
  // The leader's writes are retried on a timer too, not only on the next model change.
  const republish = setInterval(publish, recheckMs);
  republish.unref();
  try {
    xdsPort = await bind('--xds-port', opts.address, opts.xdsPort, () => cp.start(opts.plaintextXds ? { host: opts.address, port: opts.xdsPort } : false));
    elector?.start();
    if (ca) await startSecure(ca);
    else if (cluster) {
      waitForRoot = setInterval(() => void checkForRoot(), recheckMs);
      waitForRoot.unref();
    }
  } catch (err) {
    clearInterval(republish);
    await elector?.stop();
    http.server.close();
    webhook?.close();
    tlsXds?.stop();
    await cp.stop();
    throw err;
  }
  const model = cp.currentModel();
  const summary = `source ${source.description}: ${model?.services.length ?? 0} services, ${model?.routes.length ?? 0} routes`;
  if (opts.plaintextXds) log(`ADS listening on ${opts.address}:${xdsPort} (plaintext: trusted networks only); ${summary}`);
  else log(`plaintext ADS off (--plaintext-xds, values controller.plaintextXds, turns it on for trusted networks)${tlsXds ? '' : '; with no root CA there is no TLS port either: no proxy can get config'}; ${summary}`);
  return new Promise<number>((resolve) => {
    const onHup = (): void => {
      log(`SIGHUP: reloading the source${tlsXds ? ' and the root CA' : ''}`);
      void reload?.();
      void tlsXds?.reloader.check();
      void checkForRoot();
    };
    const stop = (sig: string): void => {
      log(`${sig}: shutting down`);
      signals.off('SIGHUP', onHup);
      signals.off('SIGINT', onInt);
      signals.off('SIGTERM', onTerm);
      clearInterval(republish);
      if (waitForRoot) clearInterval(waitForRoot);
      http.server.close();
      http.server.closeAllConnections();
      webhook?.close();
      webhook?.closeAllConnections();
      tlsXds?.stop();
      void (elector?.stop() ?? Promise.resolve()).then(() => cp.stop()).then(() => resolve(0));
    };
    const onInt = (): void => stop('SIGINT');
    const onTerm = (): void => stop('SIGTERM');
    signals.on('SIGHUP', onHup);
    signals.on('SIGINT', onInt);
    signals.on('SIGTERM', onTerm);
  });
}

/** The TLS side of the controller: the serving certificate, the root reloader and the TLS gRPC server. */
interface TlsXds {
  serving: ServingCert;
  reloader: RootReloader;
  server: GrpcServer;
  stop(): void;
}

/**
 * Issue the serving certificate (renewed at half-life and on a root change), start the TLS port
 * (the control plane's own ADS service plus the CA service) and the root reloader, which on a new
 * root re-issues the serving certificate and calls `onRootChange` (publish the trust bundle).
 */
async function startTlsXds(cp: ControlPlane, ca: CertificateAuthority, readRoot: RootReloaderOptions['read'], opts: ControllerOptions, dnsNames: string[], log: (line: string) => void, onRootChange: () => void): Promise<TlsXds> {
  const [{ ServingCert }, { RootReloader }, { startXdsTls }, caService] = await Promise.all([import('./serving-cert.js'), import('./root-reload.js'), import('./xds-tls.js'), import('./ca-service.js')]);
  const serving = await ServingCert.create({ ca, dnsNames, log });
  const { server, port } = await bind('--xds-tls-port', opts.address, opts.xdsTlsPort, () => startXdsTls(
    [
      { definition: cp.ads.serviceDefinition(), handlers: cp.ads.handlers({ transport: 'tls' }) },
      { definition: caService.certificateServiceDefinition(), handlers: caService.certificateServiceHandlers(() => ca, log, {}, (failure) => (failure === undefined ? cp.metrics.certsIssued.inc({ service: 'csr' }) : cp.metrics.certsFailed.inc({ service: 'csr', reason: failure }))) },
    ],
    serving,
    { host: opts.address, port: opts.xdsTlsPort },
  )).catch((err: unknown) => {
    serving.stop();
    throw err;
  });
  const reloader = new RootReloader({
    ca,
    read: readRoot,
    everyMs: opts.source === 'kubernetes' ? (opts.rootRecheckMs ?? ROOT_RECHECK_MS) : 0,
    log,
    onRotated: async () => {
      await serving.refresh();
      onRootChange();
    },
  });
  log(`xDS TLS listening on ${opts.address}:${port} (ADS and mesh.ca.v1.CertificateService; serving certificate for ${dnsNames.join(', ')}, serial ${serving.info.serial})`);
  return {
    serving,
    reloader,
    server,
    stop: () => {
      reloader.stop();
      serving.stop();
      server.forceShutdown();
    },
  };
}

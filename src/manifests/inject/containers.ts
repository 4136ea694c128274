import {
  BOOTSTRAP_PATH,
  INIT_CONTAINER,
  PROXY_CONFIG_MOUNT_PATH,
  PROXY_CONFIG_VOLUME,
  PROXY_CONTAINER,
  TOKEN_AUDIENCE,
  TOKEN_EXPIRATION_SECONDS,
  TOKEN_FILE,
  TOKEN_MOUNT_PATH,
  TOKEN_VOLUME,
  TRUST_BUNDLE_CONFIGMAP,
  TRUST_BUNDLE_KEY,
  TRUST_BUNDLE_MOUNT_PATH,
  TRUST_BUNDLE_VOLUME,
} from '../../constants.js';
import { bootstrapArgs, bootstrapSettings, POD_ENV, type AppProbe } from '../bootstrap.js';
import type { Values } from '../values.js';
import { clone, deepFreeze } from '../../util/object.js';
import { settings, SETTINGS_ANNOTATIONS, type PodSettings } from './settings.js';
import type { Container } from './types.js';
import { parseDuration } from '../../duration.js';
import { imageFor, pullSecrets } from '../images.js';
import { drainArgs, drainPreStop, exitWithAppCommand } from './lifecycle.js';

/** What the proxy gets: the sidecar and mesh-init containers, volumes, and the probe rewrite's port lookup. */

/** Probe fields the rewrite moves behind the proxy's readiness port, with the path each gets there. */
export const PROBE_FIELDS = [
  ['readinessProbe', 'readyz'],
  ['livenessProbe', 'livez'],
  ['startupProbe', 'startupz'],
] as const;

const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
const podEnv = () => Object.entries(POD_ENV).map(([name, path]) => fieldEnv(name, path));

/** Seconds the proxy drains for (values.proxy.drainDuration, rounded up to whole seconds as Envoy takes them). */
export function drainSeconds(values: Values): number {
  return Math.ceil(parseDuration(values.proxy.drainDuration, 'proxy.drainDuration') / 1000);
}

/**
 * The proxy sidecar container for this pod (`native`: an init container with restartPolicy Always).
 * `exitWithApp`: the pod shares its PID namespace and the proxy stops once the app containers have
 * exited (run-to-completion pods with a classic sidecar; see lifecycle.ts).
 */
export function proxyContainer(values: Values, s: PodSettings, native: boolean, exitWithApp = false): Container {
  const p = values.proxy;
  const ready = { httpGet: { path: '/healthz/ready', port: p.readinessPort } };
  const drain = drainSeconds(values);
  // mesh-init wrote this file (BOOTSTRAP_PATH on the shared PROXY_CONFIG_VOLUME) before the proxy starts.
  const envoyArgs = ['-c', BOOTSTRAP_PATH, '--log-level', p.logLevel, '--disable-hot-restart', ...drainArgs(drain)];
  const c: Container = {
    name: PROXY_CONTAINER,
    image: imageFor(values, p.image),
    ...(exitWithApp ? { command: exitWithAppCommand(envoyArgs) } : { command: ['envoy'], args: envoyArgs }),
    env: podEnv(),
    ports: [
      { name: 'mesh-metrics', containerPort: p.statsPort, protocol: 'TCP' },
      { name: 'mesh-health', containerPort: p.readinessPort, protocol: 'TCP' },
    ],
    readinessProbe: { ...ready, initialDelaySeconds: 1, periodSeconds: 2, timeoutSeconds: 3, failureThreshold: 30 },
  };
  // kubelet sends the proxy SIGTERM only once this returns: inbound drains while outbound keeps working.
  const preStop = { exec: { command: drainPreStop(p.adminPort, drain, exitWithApp) } };
  c.lifecycle = { preStop };
  if (native) {
    c.restartPolicy = 'Always';
    // kubelet starts the next init container and the app only once a sidecar's startupProbe passes.
    if (s.hold) c.startupProbe = { ...ready, periodSeconds: 1, timeoutSeconds: 3, failureThreshold: 600 };
  } else if (s.hold) {
    // kubelet starts the next container only when postStart returns: wait for the readiness port.
    c.lifecycle = {
      preStop,
      postStart: {
        exec: {
          command: ['bash', '-c', `for i in $(seq 1 600); do (exec 3<>/dev/tcp/127.0.0.1/${p.readinessPort}) 2>/dev/null && exit 0; sleep 0.1; done; exit 1`],
        },
      },
    };
  }
  c.resources = clone(s.resources);
  c.securityContext = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsGroup: p.uid,
    runAsNonRoot: true,
    runAsUser: p.uid,
  };
  c.volumeMounts = [
    { name: TOKEN_VOLUME, mountPath: TOKEN_MOUNT_PATH, readOnly: true },
    { name: TRUST_BUNDLE_VOLUME, mountPath: TRUST_BUNDLE_MOUNT_PATH, readOnly: true },
    { name: PROXY_CONFIG_VOLUME, mountPath: PROXY_CONFIG_MOUNT_PATH, readOnly: true },
  ];
  return c;
}

/**
 * The init container: installs the iptables redirect and writes the proxy's Envoy bootstrap to
 * the shared volume. Its arguments are the contract of `mesh proxy-init` (docs/annotations.md).
 */
export function initContainer(values: Values, s: PodSettings, version: string, probes: AppProbe[]): Container {
  const p = values.proxy;
  const excludeIn = [...new Set([p.readinessPort, p.statsPort, ...s.excludeInboundPorts])].sort((a, b) => a - b);
  const args = [
    'proxy-init',
    '--proxy-uid', String(p.uid),
    '--inbound-capture-port', String(p.inboundPort),
    '--outbound-capture-port', String(p.outboundPort),
    '--inbound-ports', '*',
    '--exclude-inbound-ports', excludeIn.join(','),
  ];
  if (s.excludeOutboundPorts.length) args.push('--exclude-outbound-ports', [...new Set(s.excludeOutboundPorts)].sort((a, b) => a - b).join(','));
  args.push('--include-outbound-ip-ranges', s.includeOutboundIpRanges.length ? s.includeOutboundIpRanges.join(',') : '*');
  if (s.excludeOutboundIpRanges.length) args.push('--exclude-outbound-ip-ranges', s.excludeOutboundIpRanges.join(','));
  args.push(...bootstrapArgs(bootstrapSettings(values, version, probes), BOOTSTRAP_PATH));
  return {
    name: INIT_CONTAINER,
    image: imageFor(values, values.proxyInit.image),
    command: ['mesh'],
    args,
    // The bootstrap's node id and metadata name the pod: mesh proxy-init reads them from here.
    env: podEnv(),
    resources: clone(values.proxyInit.resources),
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: true,
      // iptables needs root; this is the only container that gets it, and it exits before the app starts.
      runAsGroup: 0,
      runAsNonRoot: false,
      runAsUser: 0,
    },
    volumeMounts: [{ name: PROXY_CONFIG_VOLUME, mountPath: PROXY_CONFIG_MOUNT_PATH }],
  };
}

/** The volumes injection adds: the proxy config, the projected token and the trust bundle. */
export function volumes(): { name: string; [key: string]: unknown }[] {
  return [
    { name: TOKEN_VOLUME, projected: { sources: [{ serviceAccountToken: { audience: TOKEN_AUDIENCE, expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: TOKEN_FILE } }] } },
    { name: TRUST_BUNDLE_VOLUME, configMap: { name: TRUST_BUNDLE_CONFIGMAP, items: [{ key: TRUST_BUNDLE_KEY, path: TRUST_BUNDLE_KEY }] } },
    // Written by mesh-init at pod start, read by the proxy; in memory, as it lives only as long as the pod.
    { name: PROXY_CONFIG_VOLUME, emptyDir: { medium: 'Memory' } },
  ];
}

/** The port number an httpGet probe targets, resolving a named port; undefined if it cannot be. */
export function probePort(c: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

/** Distinct parts remembered per stream before the memo starts afresh (memory stays bounded on any input). */
const MAX_SHARED = 1000;

/**
 * The injected parts for pods injected with one Values: each distinct pod settings, proxy
 * container, init container and volume is built once, deep-frozen and shared by every pod whose
 * inputs (annotations, native mode, version, rewritten probes) are the same, and `onShared` learns
 * each part (mesh inject has toYaml remember its text, so each is written once). The same objects
 * as settings, proxyContainer, initContainer and volumes build. Keys are built from the inputs
 * directly, and the containers are remembered per settings object: `mesh inject` asks once per pod.
 */
export class SharedParts {
  /** Settings by the values of the annotations they read. */
  private readonly podSettings = new Map<string, PodSettings>();
  /** Per settings object: proxy containers by [native, exitWithApp], init containers by version and probes. */
  private readonly containers = new WeakMap<PodSettings, { proxies: (Container | undefined)[]; inits: Map<string, Container> }>();
  private shared: { name: string; [key: string]: unknown }[] | undefined;
  private drain: number | undefined;
  private secrets: readonly { name: string }[] | undefined;
  constructor(
    private readonly values: Values,
    private readonly onShared: (part: object) => void = () => {},
  ) {}

  /** settings(ann, values), shared (deep-frozen); throws on a bad annotation value as settings() does. */
  settings(ann: Record<string, string>): PodSettings {
    // Each value length-prefixed, so no two lists of values make the same key.
    let key = '';
    for (const k of SETTINGS_ANNOTATIONS) {
      const v = ann[k];
      key += v === undefined ? '-' : `${v.length}:${v}`;
    }
    let s = this.podSettings.get(key);
    if (s === undefined) {
      s = deepFreeze(settings(ann, this.values));
      if (this.podSettings.size >= MAX_SHARED) this.podSettings.clear();
      this.podSettings.set(key, s);
    }
    return s;
  }

  private of(s: PodSettings): { proxies: (Container | undefined)[]; inits: Map<string, Container> } {
    let c = this.containers.get(s);
    if (!c) this.containers.set(s, (c = { proxies: [], inits: new Map() }));
    return c;
  }

  private share<T extends object>(part: T): T {
    deepFreeze(part);
    this.onShared(part);
    return part;
  }

  /** proxyContainer(values, s, native, exitWithApp), shared. */
  proxy(s: PodSettings, native: boolean, exitWithApp: boolean): Container {
    const memo = this.of(s).proxies;
    const i = (native ? 2 : 0) + (exitWithApp ? 1 : 0);
    return (memo[i] ??= this.share(proxyContainer(this.values, s, native, exitWithApp)));
  }

  /** initContainer(values, s, version, probes), shared. */
  init(s: PodSettings, version: string, probes: AppProbe[]): Container {
    const memo = this.of(s).inits;
    const key = probes.length ? JSON.stringify([version, probes]) : version;
    let part = memo.get(key);
    if (part === undefined) {
      part = this.share(initContainer(this.values, s, version, probes));
      if (memo.size >= MAX_SHARED) memo.clear();
      memo.set(key, part);
    }
    return part;
  }

  /** volumes(), each shared. */
  volumes(): { name: string; [key: string]: unknown }[] {
    if (!this.shared) this.shared = volumes().map((v) => this.share(v));
    return this.shared;
  }

  /** drainSeconds(values). */
  drainSeconds(): number {
    return (this.drain ??= drainSeconds(this.values));
  }

  /** pullSecrets(values), shared. */
  pullSecrets(): readonly { name: string }[] {
    return (this.secrets ??= deepFreeze(pullSecrets(this.values)));
  }
}

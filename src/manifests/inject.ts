import { isIP } from 'node:net';
import {
  ANNOTATION_EXCLUDE_INBOUND_PORTS,
  ANNOTATION_EXCLUDE_OUTBOUND_IP_RANGES,
  ANNOTATION_EXCLUDE_OUTBOUND_PORTS,
  ANNOTATION_HOLD_APPLICATION,
  ANNOTATION_INCLUDE_OUTBOUND_IP_RANGES,
  ANNOTATION_INJECT,
  ANNOTATION_PROXY_CPU,
  ANNOTATION_PROXY_CPU_LIMIT,
  ANNOTATION_PROXY_MEMORY,
  ANNOTATION_PROXY_MEMORY_LIMIT,
  ANNOTATION_REWRITE_PROBES,
  ANNOTATION_STATUS,
  APP_HEALTH_PREFIX,
  BOOTSTRAP_PATH,
  INIT_CONTAINER,
  LABEL_INJECT,
  LABEL_PROXY_VERSION,
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
} from '../constants.js';
import type { KubeObject } from '../cluster/types.js';
import { inputError } from '../errors.js';
import { VERSION } from '../version.js';
import { bootstrapArgs, bootstrapSettings, POD_ENV, type AppProbe } from './bootstrap.js';
import type { Resources, Values } from './values.js';

/**
 * Sidecar injection as pure data transformations (DESIGN.md "Transformations are pure"): the CLI
 * (`mesh inject`), `mesh uninject` and the control plane's admission webhook all call these, so
 * they cannot disagree. Nothing here does I/O; inputs are never mutated.
 */

// ---------------------------------------------------------------------------------------------
// Pod shapes (only the fields injection reads or writes are typed; the rest passes through).

/** A kubelet httpGet probe action. */
export interface HttpGetAction {
  path?: string;
  port: number | string;
  host?: string;
  scheme?: string;
  httpHeaders?: { name: string; value: string }[];
}

/** A container probe; only httpGet is read. */
export interface Probe {
  httpGet?: HttpGetAction;
  [key: string]: unknown;
}

/** A container; fields injection does not read pass through untouched. */
export interface Container {
  name: string;
  image?: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  [key: string]: unknown;
}

/** A pod spec; fields injection does not read pass through untouched. */
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; [key: string]: unknown }[];
  hostNetwork?: boolean;
  [key: string]: unknown;
}

/** A pod template (or a Pod's metadata and spec). */
export interface PodTemplate {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [key: string]: unknown };
  spec: PodSpec;
}

// ---------------------------------------------------------------------------------------------
// Options, reports and skip reasons (data, so the CLI, the webhook and tests share them).

export interface InjectOptions {
  /** Run the proxy as a native sidecar (an init container with restartPolicy Always). Resolve with resolveNativeSidecar. */
  nativeSidecar: boolean;
  /** The mesh version doing the injection (default: this build's VERSION). Tests inject as older versions. */
  version?: string;
  /**
   * Labels of the pod's namespace, when known (the webhook knows them; `mesh inject` knows them for
   * Namespace documents earlier in its input). `mesh.dev/inject=disabled` there skips the pod unless
   * the pod itself says `mesh.dev/inject: enabled`.
   */
  namespaceLabels?: Record<string, string>;
}

/** Why a resource was not injected. The text is what `mesh inject` prints after "skipped: ". */
export const SKIP_REASONS = {
  hostNetwork: 'hostNetwork',
  optedOut: `opted out by annotation ${ANNOTATION_INJECT}=disabled`,
  namespaceOptedOut: `its namespace is labelled ${LABEL_INJECT}=disabled`,
  newerVersion: 'already injected by a newer mesh version',
  unsupportedKind: 'not a workload kind mesh injects',
  noPodTemplate: 'has no pod template',
  nameConflict: `has a container named ${PROXY_CONTAINER} or ${INIT_CONTAINER} that mesh did not add`,
  notInjected: 'not injected',
} as const;
/** The key of a SKIP_REASONS entry (`--report json` prints it as `reason`). */
export type SkipReason = keyof typeof SKIP_REASONS;

/** What happened to a resource. */
export type InjectAction = 'injected' | 'upgraded' | 'unchanged' | 'uninjected' | 'skipped';

/** What happened to one resource. Stable field names: `--report json` prints these. */
export interface InjectReport {
  kind: string;
  name: string;
  namespace?: string;
  action: InjectAction;
  /** Set when action is 'skipped'. */
  reason?: SkipReason;
  /** The reason's text, with detail (e.g. which version injected it). */
  message?: string;
  /** What injection changed, one short phrase each. */
  changes: string[];
  /** Warnings worth reading (e.g. Job pods with a classic sidecar). */
  notes: string[];
}

/** Recorded in the ANNOTATION_STATUS annotation: everything injection added, so uninject is exact. */
export interface InjectStatus {
  version: string;
  nativeSidecar: boolean;
  containers: string[];
  initContainers: string[];
  volumes: string[];
  labels: string[];
  annotations: string[];
  /** Fields that did not exist before injection and are removed again when left empty. */
  absent: string[];
  /** Original probes of app containers whose HTTP probes were rewritten: container -> probe field -> probe. */
  probes: Record<string, Record<string, Probe>>;
}

/** The kinds injected and where their pod template lives. */
export const TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/**
 * Decide native sidecar mode from --native-sidecar (or values.proxy.nativeSidecar) and the target
 * Kubernetes version ("1.29", "v1.30.2"), when known. auto = on for 1.29 and later; unknown = off.
 */
export function resolveNativeSidecar(mode: 'auto' | 'on' | 'off', kubeVersion?: string): { enabled: boolean; reason: string } {
  if (mode === 'on') return { enabled: true, reason: 'native sidecar: on (--native-sidecar on)' };
  if (mode === 'off') return { enabled: false, reason: 'native sidecar: off (--native-sidecar off)' };
  if (kubeVersion === undefined) return { enabled: false, reason: 'native sidecar: off (auto, and the Kubernetes version is unknown: pass --kube-version or --from-cluster)' };
  const v = parseKubeVersion(kubeVersion);
  const on = v.major > 1 || (v.major === 1 && v.minor >= 29);
  return { enabled: on, reason: `native sidecar: ${on ? 'on' : 'off'} (auto, Kubernetes ${v.major}.${v.minor} ${on ? '>=' : '<'} 1.29)` };
}

/** Parse "1.29", "v1.30.2", "1.28+" into major/minor; a bad one is an input error. */
export function parseKubeVersion(s: string): { major: number; minor: number } {
  const m = /^v?(\d+)\.(\d+)/.exec(s.trim());
  if (!m) throw inputError(`Kubernetes version "${s}" is not a version`, 'use MAJOR.MINOR, for example --kube-version 1.30');
  return { major: Number(m[1]), minor: Number(m[2]) };
}

// ---------------------------------------------------------------------------------------------
// Annotation parsing: a bad value is an input error naming the annotation.

const QUANTITY = /^\d+(\.\d+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/;

function badAnnotation(key: string, value: string, expected: string): never {
  throw inputError(`annotation ${key}: "${value}" is not ${expected}`, 'see docs/annotations.md');
}

function portList(key: string, value: string | undefined): number[] {
  if (value === undefined || value.trim() === '') return [];
  return value.split(',').map((p) => {
    const t = p.trim();
    const n = Number(t);
    if (!/^\d+$/.test(t) || n < 1 || n > 65535) badAnnotation(key, value, 'a comma-separated list of ports (1-65535)');
    return n;
  });
}

function cidrList(key: string, value: string | undefined, allowStar: boolean): string[] {
  if (value === undefined || value.trim() === '') return [];
  const items = value.split(',').map((c) => c.trim());
  for (const c of items) {
    if (allowStar && c === '*' && items.length === 1) continue;
    const [ip, bits, extra] = c.split('/');
    const fam = isIP(ip ?? '');
    const max = fam === 6 ? 128 : 32;
    if (fam === 0 || extra !== undefined || (bits !== undefined && (!/^\d+$/.test(bits) || Number(bits) > max))) {
      badAnnotation(key, value, `a comma-separated list of CIDRs such as 10.0.0.0/8${allowStar ? ', or *' : ''}`);
    }
  }
  return items;
}

function bool(key: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return badAnnotation(key, value, 'true or false');
}

function quantity(key: string, value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  if (!QUANTITY.test(value)) badAnnotation(key, value, 'a Kubernetes quantity such as 100m or 128Mi');
  return value;
}

/** The pod's settings, from values and its annotations; throws on a bad annotation value. */
interface PodSettings {
  resources: Resources;
  hold: boolean;
  rewriteProbes: boolean;
  excludeInboundPorts: number[];
  excludeOutboundPorts: number[];
  excludeOutboundIpRanges: string[];
  includeOutboundIpRanges: string[];
}

function settings(ann: Record<string, string>, values: Values): PodSettings {
  const r = values.proxy.resources;
  return {
    resources: {
      requests: { cpu: quantity(ANNOTATION_PROXY_CPU, ann[ANNOTATION_PROXY_CPU], r.requests.cpu), memory: quantity(ANNOTATION_PROXY_MEMORY, ann[ANNOTATION_PROXY_MEMORY], r.requests.memory) },
      limits: { cpu: quantity(ANNOTATION_PROXY_CPU_LIMIT, ann[ANNOTATION_PROXY_CPU_LIMIT], r.limits.cpu), memory: quantity(ANNOTATION_PROXY_MEMORY_LIMIT, ann[ANNOTATION_PROXY_MEMORY_LIMIT], r.limits.memory) },
    },
    hold: bool(ANNOTATION_HOLD_APPLICATION, ann[ANNOTATION_HOLD_APPLICATION], values.proxy.holdApplicationUntilProxyStarts),
    rewriteProbes: bool(ANNOTATION_REWRITE_PROBES, ann[ANNOTATION_REWRITE_PROBES], true),
    excludeInboundPorts: portList(ANNOTATION_EXCLUDE_INBOUND_PORTS, ann[ANNOTATION_EXCLUDE_INBOUND_PORTS]),
    excludeOutboundPorts: portList(ANNOTATION_EXCLUDE_OUTBOUND_PORTS, ann[ANNOTATION_EXCLUDE_OUTBOUND_PORTS]),
    excludeOutboundIpRanges: cidrList(ANNOTATION_EXCLUDE_OUTBOUND_IP_RANGES, ann[ANNOTATION_EXCLUDE_OUTBOUND_IP_RANGES], false),
    includeOutboundIpRanges: cidrList(ANNOTATION_INCLUDE_OUTBOUND_IP_RANGES, ann[ANNOTATION_INCLUDE_OUTBOUND_IP_RANGES], true),
  };
}

/** Parse the status annotation; a broken one is an input error (it would make uninject guess). */
export function readStatus(ann: Record<string, string> | undefined): InjectStatus | undefined {
  const raw = ann?.[ANNOTATION_STATUS];
  if (raw === undefined) return undefined;
  let s: unknown;
  try {
    s = JSON.parse(raw);
  } catch {
    return badAnnotation(ANNOTATION_STATUS, raw.length > 60 ? raw.slice(0, 60) + '...' : raw, 'the JSON mesh inject writes');
  }
  const st = s as Partial<InjectStatus>;
  if (typeof st !== 'object' || st === null || typeof st.version !== 'string' || !Array.isArray(st.containers)) {
    return badAnnotation(ANNOTATION_STATUS, raw.slice(0, 60), 'the JSON mesh inject writes');
  }
  return {
    version: st.version,
    nativeSidecar: st.nativeSidecar === true,
    containers: st.containers,
    initContainers: st.initContainers ?? [],
    volumes: st.volumes ?? [],
    labels: st.labels ?? [],
    annotations: st.annotations ?? [],
    absent: st.absent ?? [],
    probes: st.probes ?? {},
  };
}

/** -1, 0, 1 comparing dotted versions numerically ("0.10.0" > "0.9.1"); pre-release tags sort first. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.replace(/^v/, '').split('-', 2);
    return { nums: (core ?? '').split('.').map((x) => Number(x) || 0), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < Math.max(x.nums.length, y.nums.length); i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

// ---------------------------------------------------------------------------------------------
// What the proxy gets.

const PROBE_FIELDS = [
  ['readinessProbe', 'readyz'],
  ['livenessProbe', 'livez'],
  ['startupProbe', 'startupz'],
] as const;

const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
const podEnv = () => Object.entries(POD_ENV).map(([name, path]) => fieldEnv(name, path));

function proxyContainer(values: Values, s: PodSettings, native: boolean): Container {
  const p = values.proxy;
  const ready = { httpGet: { path: '/healthz/ready', port: p.readinessPort } };
  const c: Container = {
    name: PROXY_CONTAINER,
    image: p.image,
    command: ['envoy'],
    // mesh-init wrote this file (BOOTSTRAP_PATH on the shared PROXY_CONFIG_VOLUME) before the proxy starts.
    args: ['-c', BOOTSTRAP_PATH, '--log-level', p.logLevel, '--disable-hot-restart', '--drain-time-s', '5'],
    env: podEnv(),
    ports: [
      { name: 'mesh-metrics', containerPort: p.statsPort, protocol: 'TCP' },
      { name: 'mesh-health', containerPort: p.readinessPort, protocol: 'TCP' },
    ],
    readinessProbe: { ...ready, initialDelaySeconds: 1, periodSeconds: 2, timeoutSeconds: 3, failureThreshold: 30 },
  };
  if (native) {
    c.restartPolicy = 'Always';
    // kubelet starts the next init container and the app only once a sidecar's startupProbe passes.
    if (s.hold) c.startupProbe = { ...ready, periodSeconds: 1, timeoutSeconds: 3, failureThreshold: 600 };
  } else if (s.hold) {
    // kubelet starts the next container only when postStart returns: wait for the readiness port.
    c.lifecycle = {
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
function initContainer(values: Values, s: PodSettings, version: string, probes: AppProbe[]): Container {
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
    image: values.proxyInit.image,
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

function volumes(): { name: string; [key: string]: unknown }[] {
  return [
    { name: TOKEN_VOLUME, projected: { sources: [{ serviceAccountToken: { audience: TOKEN_AUDIENCE, expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: TOKEN_FILE } }] } },
    { name: TRUST_BUNDLE_VOLUME, configMap: { name: TRUST_BUNDLE_CONFIGMAP, items: [{ key: TRUST_BUNDLE_KEY, path: TRUST_BUNDLE_KEY }] } },
    // Written by mesh-init at pod start, read by the proxy; in memory, as it lives only as long as the pod.
    { name: PROXY_CONFIG_VOLUME, emptyDir: { medium: 'Memory' } },
  ];
}

/** The port number an httpGet probe targets, resolving a named port; undefined if it cannot be. */
function probePort(c: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

// ---------------------------------------------------------------------------------------------
// The transformations.

/** The result of transforming one pod template. */
export interface PodResult {
  /** The new template (a copy; the input is not changed). Equal to the input when skipped. */
  template: PodTemplate;
  report: Omit<InjectReport, 'kind' | 'name' | 'namespace'>;
}

const skip = (template: PodTemplate, reason: SkipReason, detail?: string): PodResult => ({
  template,
  report: { action: 'skipped', reason, message: detail ? `${SKIP_REASONS[reason]} (${detail})` : SKIP_REASONS[reason], changes: [], notes: [] },
});

/**
 * Remove what injection added, exactly, from what the status annotation recorded. Returns the
 * template unchanged (a copy) with action 'skipped' / notInjected when it carries no status.
 */
export function uninjectPod(template: PodTemplate): PodResult {
  const status = readStatus(template.metadata?.annotations);
  if (!status) return skip(template, 'notInjected');
  const t = clone(template);
  const md = t.metadata ?? {};
  const spec = t.spec;
  const dropNamed = <T extends { name: string }>(xs: T[] | undefined, names: string[]) => xs?.filter((x) => !names.includes(x.name));
  spec.containers = dropNamed(spec.containers, status.containers) ?? [];
  if (spec.initContainers) spec.initContainers = dropNamed(spec.initContainers, status.initContainers);
  if (spec.volumes) spec.volumes = dropNamed(spec.volumes, status.volumes);
  for (const c of spec.containers) {
    const orig = status.probes[c.name];
    if (!orig) continue;
    for (const [field, probe] of Object.entries(orig)) c[field] = probe;
  }
  if (md.annotations) {
    for (const k of [...status.annotations, ANNOTATION_STATUS]) delete md.annotations[k];
  }
  if (md.labels) for (const k of status.labels) delete md.labels[k];
  const empty = (x: unknown) => x === undefined || (Array.isArray(x) ? x.length === 0 : typeof x === 'object' && x !== null && Object.keys(x).length === 0);
  if (status.absent.includes('spec.initContainers') && empty(spec.initContainers)) delete spec.initContainers;
  if (status.absent.includes('spec.volumes') && empty(spec.volumes)) delete spec.volumes;
  if (status.absent.includes('metadata.annotations') && empty(md.annotations)) delete md.annotations;
  if (status.absent.includes('metadata.labels') && empty(md.labels)) delete md.labels;
  if (status.absent.includes('metadata') && empty(t.metadata)) delete t.metadata;
  return { template: t, report: { action: 'uninjected', changes: [`removed the ${status.version} sidecar`], notes: [] } };
}

/**
 * Inject the sidecar into a pod template: the proxy (classic or native sidecar), the iptables
 * init container, volumes, probe rewrites, the version label and the status annotation.
 * Idempotent: a template injected by this version comes back equal (action 'unchanged'); one
 * injected by an older version is uninjected first and injected again ('upgraded'). Throws an
 * input error for a bad annotation value.
 */
export function injectPod(template: PodTemplate, values: Values, opts: InjectOptions): PodResult {
  const version = opts.version ?? VERSION;
  const ann = template.metadata?.annotations ?? {};
  const inject = ann[ANNOTATION_INJECT];
  if (inject !== undefined && inject !== 'enabled' && inject !== 'disabled') badAnnotation(ANNOTATION_INJECT, inject, 'enabled or disabled');
  if (inject === 'disabled') return skip(template, 'optedOut');
  if (inject === undefined && opts.namespaceLabels?.[LABEL_INJECT] === 'disabled') return skip(template, 'namespaceOptedOut');
  if (template.spec.hostNetwork === true) return skip(template, 'hostNetwork');
  const prior = readStatus(ann);
  let base = template;
  if (prior) {
    if (compareVersions(prior.version, version) > 0) return skip(template, 'newerVersion', `${prior.version}; this is ${version}`);
    base = uninjectPod(template).template;
  } else {
    const names = [...(template.spec.containers ?? []), ...(template.spec.initContainers ?? [])].map((c) => c.name);
    if (names.includes(PROXY_CONTAINER) || names.includes(INIT_CONTAINER)) return skip(template, 'nameConflict');
  }
  const result = freshInject(base, values, version, opts.nativeSidecar);
  if (prior) {
    if (prior.version !== version) result.report.action = 'upgraded';
    else if (deepEqual(result.template, template)) return { template: clone(template), report: { action: 'unchanged', changes: [], notes: result.report.notes } };
  }
  return result;
}

function freshInject(template: PodTemplate, values: Values, version: string, native: boolean): PodResult {
  const t = clone(template);
  const absent: string[] = [];
  if (!t.metadata) {
    absent.push('metadata');
    t.metadata = {};
  }
  const md = t.metadata;
  if (!md.annotations) {
    absent.push('metadata.annotations');
    md.annotations = {};
  }
  if (!md.labels) {
    absent.push('metadata.labels');
    md.labels = {};
  }
  const spec = t.spec;
  if (!Array.isArray(spec.containers)) spec.containers = [];
  const s = settings(md.annotations, values);
  const changes: string[] = [];
  const notes: string[] = [];

  // Rewrite kubelet HTTP probes to go through the proxy's readiness port (kubelet has no mesh certificate).
  const probes: AppProbe[] = [];
  const originals: Record<string, Record<string, Probe>> = {};
  if (s.rewriteProbes) {
    for (const c of spec.containers) {
      for (const [field, short] of PROBE_FIELDS) {
        const probe = c[field];
        const get = probe?.httpGet;
        if (!probe || !get) continue;
        const port = probePort(c, get.port);
        if (port === undefined || get.host) {
          notes.push(`${field} of container "${c.name}" not rewritten: ${get.host ? 'it targets another host' : `port "${get.port}" is not a port of the container`}`);
          continue;
        }
        const path = `${APP_HEALTH_PREFIX}/${c.name}/${short}`;
        probes.push({ path, port, originalPath: get.path ?? '/', https: (get.scheme ?? 'HTTP').toUpperCase() === 'HTTPS', headers: get.httpHeaders ?? [] });
        (originals[c.name] ??= {})[field] = clone(probe);
        c[field] = { ...probe, httpGet: { path, port: values.proxy.readinessPort, scheme: 'HTTP' } };
      }
    }
    if (probes.length) changes.push(`rewrote ${probes.length} HTTP probe${probes.length > 1 ? 's' : ''} through port ${values.proxy.readinessPort}`);
  }

  const proxy = proxyContainer(values, s, native);
  const init = initContainer(values, s, version, probes);
  if (!spec.initContainers) absent.push('spec.initContainers');
  const userInits = spec.initContainers ?? [];
  if (native) {
    spec.initContainers = [init, proxy, ...userInits];
    changes.push(`added native sidecar ${PROXY_CONTAINER}`);
  } else {
    spec.initContainers = [init, ...userInits];
    spec.containers = s.hold ? [proxy, ...spec.containers] : [...spec.containers, proxy];
    changes.push(`added container ${PROXY_CONTAINER}`);
    if (userInits.length) notes.push(`init containers ${userInits.map((c) => `"${c.name}"`).join(', ')} run before the proxy: their traffic is redirected but not served (use --native-sidecar on, Kubernetes >= 1.29)`);
  }
  changes.push(`added init container ${INIT_CONTAINER}`);
  if (!spec.volumes) absent.push('spec.volumes');
  spec.volumes = [...(spec.volumes ?? []), ...volumes()];

  const addedAnnotations: string[] = [];
  const addAnnotation = (k: string, v: string) => {
    if (md.annotations![k] !== undefined) return;
    md.annotations![k] = v;
    addedAnnotations.push(k);
  };
  const firstApp = spec.containers.find((c) => c.name !== PROXY_CONTAINER);
  if (firstApp) addAnnotation('kubectl.kubernetes.io/default-container', firstApp.name);
  if (!Object.keys(md.annotations).some((k) => k.startsWith('prometheus.io/'))) {
    addAnnotation('prometheus.io/scrape', 'true');
    addAnnotation('prometheus.io/port', String(values.proxy.statsPort));
    addAnnotation('prometheus.io/path', '/stats/prometheus');
  }
  const addedLabels = md.labels[LABEL_PROXY_VERSION] === undefined ? [LABEL_PROXY_VERSION] : [];
  md.labels[LABEL_PROXY_VERSION] = version;

  const status: InjectStatus = {
    version,
    nativeSidecar: native,
    containers: native ? [] : [PROXY_CONTAINER],
    initContainers: native ? [INIT_CONTAINER, PROXY_CONTAINER] : [INIT_CONTAINER],
    volumes: [TOKEN_VOLUME, TRUST_BUNDLE_VOLUME, PROXY_CONFIG_VOLUME],
    labels: addedLabels,
    annotations: addedAnnotations,
    absent,
    probes: originals,
  };
  md.annotations[ANNOTATION_STATUS] = JSON.stringify(status);
  return { template: t, report: { action: 'injected', changes, notes } };
}

/** A deep copy of plain data (what JSON and YAML produce); several times faster than structuredClone. */
export function clone<T>(x: T): T {
  if (typeof x !== 'object' || x === null) return x;
  if (Array.isArray(x)) return x.map(clone) as T;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(x)) out[k] = clone((x as Record<string, unknown>)[k]);
  return out as T;
}

/** Structural equality of plain data (what JSON and YAML produce). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

// ---------------------------------------------------------------------------------------------
// Per-kind wrappers.

/** The result of transforming one object of any kind. */
export interface ObjectResult {
  /** The new object (a copy), or the input itself when nothing changed. */
  object: KubeObject;
  report: InjectReport;
}

function getPath(o: unknown, path: readonly string[]): unknown {
  let cur = o;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function transform(obj: KubeObject, fn: (t: PodTemplate) => PodResult): ObjectResult {
  const ident = { kind: obj.kind, name: obj.metadata?.name ?? (obj.metadata?.generateName as string | undefined) ?? '', ...(obj.metadata?.namespace ? { namespace: obj.metadata.namespace } : {}) };
  const path = TEMPLATE_PATHS[obj.kind];
  if (!path) return { object: obj, report: { ...ident, action: 'skipped', reason: 'unsupportedKind', message: `kind ${obj.kind} has no pod template`, changes: [], notes: [] } };
  const template = (path.length === 0 ? { metadata: obj.metadata, spec: obj.spec } : getPath(obj, path)) as PodTemplate | undefined;
  if (typeof template !== 'object' || template === null || typeof template.spec !== 'object' || template.spec === null) {
    return { object: obj, report: { ...ident, action: 'skipped', reason: 'noPodTemplate', message: SKIP_REASONS.noPodTemplate, changes: [], notes: [] } };
  }
  let r: PodResult;
  try {
    r = fn(template);
  } catch (err) {
    if (err instanceof Error) err.message = `${obj.kind.toLowerCase()} "${ident.name}": ${err.message}`;
    throw err;
  }
  const report: InjectReport = { ...ident, ...r.report };
  if (r.report.action === 'skipped' || r.report.action === 'unchanged') return { object: obj, report };
  if (r.report.action !== 'uninjected' && (obj.kind === 'Job' || obj.kind === 'CronJob') && !(getPath(r.template, ['spec', 'initContainers']) as Container[]).some((c) => c.name === PROXY_CONTAINER)) {
    report.notes.push('a Job pod with a classic sidecar does not complete when its app exits: use --native-sidecar on (Kubernetes >= 1.29)');
  }
  let out: KubeObject;
  if (path.length === 0) {
    out = { ...obj, spec: r.template.spec };
    if (r.template.metadata === undefined) delete (out as Partial<KubeObject>).metadata;
    else out.metadata = r.template.metadata as KubeObject['metadata'];
  } else {
    // Copy only the objects on the path to the template; the rest is shared with the (unchanged) input.
    out = { ...obj };
    let cur = out as Record<string, unknown>;
    path.forEach((p, i) => {
      cur[p] = i === path.length - 1 ? r.template : { ...(cur[p] as Record<string, unknown>) };
      cur = cur[p] as Record<string, unknown>;
    });
  }
  return { object: out, report };
}

/** Inject one object of any kind; kinds without a pod template come back unchanged, reported as skipped. */
export function injectObject(obj: KubeObject, values: Values, opts: InjectOptions): ObjectResult {
  return transform(obj, (t) => injectPod(t, values, opts));
}

/** Remove injection from one object of any kind; objects never injected come back unchanged. */
export function uninjectObject(obj: KubeObject): ObjectResult {
  return transform(obj, uninjectPod);
}

// ---------------------------------------------------------------------------------------------
// The admission webhook's view: the same injection as a JSON Patch.

/** One RFC 6902 operation. */
export type JsonPatchOp = { op: 'add' | 'replace'; path: string; value: unknown } | { op: 'remove'; path: string };

const pointer = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');

/** RFC 6902 operations turning `a` into `b`: objects are diffed key by key, arrays replaced whole. */
export function jsonPatch(a: unknown, b: unknown, path = ''): JsonPatchOp[] {
  if (deepEqual(a, b)) return [];
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObj(a) || !isObj(b)) return [{ op: 'replace', path, value: b }];
  const ops: JsonPatchOp[] = [];
  for (const k of Object.keys(a)) if (a[k] !== undefined && b[k] === undefined) ops.push({ op: 'remove', path: `${path}/${pointer(k)}` });
  for (const k of Object.keys(b)) {
    if (b[k] === undefined) continue;
    if (a[k] === undefined) ops.push({ op: 'add', path: `${path}/${pointer(k)}`, value: b[k] });
    else ops.push(...jsonPatch(a[k], b[k], `${path}/${pointer(k)}`));
  }
  return ops;
}

/**
 * For the admission webhook: the JSON Patch that injects `pod` (a Pod as the API server sends it),
 * computed by the same injectObject the CLI uses. Empty when the pod is skipped or unchanged.
 */
export function webhookPatch(pod: KubeObject, values: Values, opts: InjectOptions): { patch: JsonPatchOp[]; report: InjectReport } {
  const { object, report } = injectObject(pod, values, opts);
  return { patch: object === pod ? [] : jsonPatch(pod, object), report };
}

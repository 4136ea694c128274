import {
  ANNOTATION_STATUS,
  APP_HEALTH_PREFIX,
  INIT_CONTAINER,
  LABEL_PROXY_VERSION,
  PROXY_CONFIG_VOLUME,
  PROXY_CONTAINER,
  TOKEN_VOLUME,
  TRUST_BUNDLE_VOLUME,
} from '../../constants.js';
import { VERSION } from '../../version.js';
import type { AppProbe } from '../bootstrap.js';
import type { Values } from '../values.js';
import { PROBE_FIELDS, probePort, SharedParts } from './containers.js';
import { clone, deepEqual, shallow } from '../../util/object.js';
import { readStatus } from './settings.js';
import { podDecision } from './decision.js';
import { OTHER_MESH_CONTAINERS, SKIP_REASONS, type Container, type InjectOptions, type InjectReport, type InjectStatus, type PodTemplate, type Probe, type SkipReason } from './types.js';

/** The pod-template transformations: inject (fresh or upgrade) and uninject, each with its report. */

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
  if (status.absent.includes('spec.shareProcessNamespace')) delete spec.shareProcessNamespace;
  if (status.imagePullSecrets?.length && Array.isArray(spec.imagePullSecrets)) {
    const kept = (spec.imagePullSecrets as { name?: string }[]).filter((x) => !status.imagePullSecrets!.includes(x.name ?? ''));
    if (status.absent.includes('spec.imagePullSecrets') && kept.length === 0) delete spec.imagePullSecrets;
    else spec.imagePullSecrets = kept;
  }
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
  const decision = podDecision(template, opts, version);
  if (decision.skip) return skip(template, decision.skip.reason, decision.skip.detail);
  const others = [...(template.spec.containers ?? []), ...(template.spec.initContainers ?? [])].filter((c) => Object.hasOwn(OTHER_MESH_CONTAINERS, c.name));
  const prior = decision.prior;
  const base = prior ? uninjectPod(template).template : template;
  const result = freshInject(base, values, version, opts.nativeSidecar, opts.parts);
  if (others.length) result.report.notes.push(`injected beside another mesh's sidecar (${others.map((c) => c.name).join(', ')}) because of --force: both proxies capture the pod's traffic`);
  if (prior) {
    if (prior.version !== version) result.report.action = 'upgraded';
    else if (deepEqual(result.template, template)) return { template: clone(template), report: { action: 'unchanged', changes: [], notes: result.report.notes } };
  }
  return result;
}

/**
 * Rewrite kubelet HTTP and TCP probes to go through the proxy's readiness port: kubelet has no mesh
 * certificate (an HTTP probe would fail under STRICT mTLS), and a TCP connect would reach the
 * proxy's inbound listener, which accepts whether or not the app listens. Exec probes run inside
 * the app container and need nothing. `containers` is the template's copy of its list: a
 * container whose probes are rewritten is replaced by a copy. Returns what mesh-init serves on the
 * readiness port and the original probes (for the status annotation); says what it did, and what
 * it could not, in `changes` and `notes`.
 */
function rewriteProbes(containers: Container[], readinessPort: number, changes: string[], notes: string[]): { probes: AppProbe[]; originals: Record<string, Record<string, Probe>> } {
  const probes: AppProbe[] = [];
  const originals: Record<string, Record<string, Probe>> = {};
  let tcpProbes = 0;
  for (let i = 0; i < containers.length; i++) {
    if (!PROBE_FIELDS.some(([field]) => containers[i]![field])) continue;
    const c = (containers[i] = shallow(containers[i]!));
    for (const [field, short] of PROBE_FIELDS) {
      const probe = c[field];
      const tcp = probe?.tcpSocket;
      if (probe && tcp && !probe.httpGet) {
        const port = probePort(c, tcp.port);
        if (port === undefined || tcp.host) {
          notes.push(`${field} of container "${c.name}" not rewritten: ${tcp.host ? 'it targets another host' : `port "${tcp.port}" is not a port of the container`}`);
          continue;
        }
        const path = `${APP_HEALTH_PREFIX}/${c.name}/${short}`;
        probes.push({ path, port, originalPath: '', https: false, headers: [], tcp: true });
        (originals[c.name] ??= {})[field] = probe;
        const { tcpSocket: _tcp, ...rest } = probe;
        c[field] = { ...rest, httpGet: { path, port: readinessPort, scheme: 'HTTP' } };
        tcpProbes++;
        continue;
      }
      const get = probe?.httpGet;
      if (!probe || !get) continue;
      const port = probePort(c, get.port);
      if (port === undefined || get.host) {
        notes.push(`${field} of container "${c.name}" not rewritten: ${get.host ? 'it targets another host' : `port "${get.port}" is not a port of the container`}`);
        continue;
      }
      const path = `${APP_HEALTH_PREFIX}/${c.name}/${short}`;
      probes.push({ path, port, originalPath: get.path ?? '/', https: (get.scheme ?? 'HTTP').toUpperCase() === 'HTTPS', headers: get.httpHeaders ?? [] });
      (originals[c.name] ??= {})[field] = probe;
      c[field] = { ...probe, httpGet: { path, port: readinessPort, scheme: 'HTTP' } };
    }
  }
  const http = probes.length - tcpProbes;
  if (http) changes.push(`rewrote ${http} HTTP probe${http > 1 ? 's' : ''} through port ${readinessPort}`);
  if (tcpProbes) changes.push(`rewrote ${tcpProbes} TCP probe${tcpProbes > 1 ? 's' : ''} through port ${readinessPort}`);
  return { probes, originals };
}

/**
 * A copy of `template` for injection to change: only the objects injection changes are copied (the
 * template, its metadata, labels, annotations and spec, and the container list); everything else
 * is shared with the input, which is never changed. `absent` learns the fields it had to create.
 */
function copyForInjection(template: PodTemplate, absent: string[]): PodTemplate & { metadata: { labels: Record<string, string>; annotations: Record<string, string> } } {
  if (!template.metadata) absent.push('metadata');
  const md = shallow(template.metadata);
  if (!md.annotations) absent.push('metadata.annotations');
  md.annotations = shallow(md.annotations);
  if (!md.labels) absent.push('metadata.labels');
  md.labels = shallow(md.labels);
  const spec = shallow(template.spec);
  spec.containers = Array.isArray(spec.containers) ? spec.containers.slice() : [];
  const t = shallow(template);
  t.metadata = md;
  t.spec = spec;
  return t as PodTemplate & { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
}

/** Put the proxy and mesh-init into `spec`: as native sidecar init containers, or the proxy as a container (first when it holds the app). */
function placeSidecars(spec: PodTemplate['spec'], proxy: Container, init: Container, native: boolean, hold: boolean, absent: string[], changes: string[], notes: string[]): void {
  if (!spec.initContainers) absent.push('spec.initContainers');
  const userInits = spec.initContainers ?? [];
  if (native) {
    spec.initContainers = [init, proxy, ...userInits];
    changes.push(`added native sidecar ${PROXY_CONTAINER}`);
  } else {
    spec.initContainers = [init, ...userInits];
    spec.containers = hold ? [proxy, ...spec.containers] : [...spec.containers, proxy];
    changes.push(`added container ${PROXY_CONTAINER}`);
    if (userInits.length) notes.push(`init containers ${userInits.map((c) => `"${c.name}"`).join(', ')} run before the proxy: their traffic is redirected but not served (use --native-sidecar on, Kubernetes >= 1.29)`);
  }
  changes.push(`added init container ${INIT_CONTAINER}`);
}

/** Pods pull the proxy images from global.registry with global.imagePullSecrets (air-gapped installs): the secrets added to `spec`. */
function addPullSecrets(spec: PodTemplate['spec'], secrets: readonly { name: string }[], absent: string[]): string[] {
  if (!secrets.length) return [];
  const have = new Set((Array.isArray(spec.imagePullSecrets) ? (spec.imagePullSecrets as { name?: string }[]) : []).map((x) => x.name));
  const wanted = secrets.filter((x) => !have.has(x.name));
  if (!wanted.length) return [];
  if (!Array.isArray(spec.imagePullSecrets)) absent.push('spec.imagePullSecrets');
  spec.imagePullSecrets = [...((spec.imagePullSecrets as { name: string }[] | undefined) ?? []), ...wanted];
  return wanted.map((x) => x.name);
}

/** The default-container and Prometheus scrape annotations, each only where the pod has none: the keys added. */
function addAnnotations(annotations: Record<string, string>, containers: Container[], values: Values): string[] {
  const wanted: [string, string][] = [];
  const firstApp = containers.find((c) => c.name !== PROXY_CONTAINER);
  if (firstApp) wanted.push(['kubectl.kubernetes.io/default-container', firstApp.name]);
  let scraped = false;
  for (const k in annotations) if (k.startsWith('prometheus.io/')) scraped = true;
  if (!scraped) {
    wanted.push(['prometheus.io/scrape', 'true'], ['prometheus.io/port', String(values.proxy.statsPort)], ['prometheus.io/path', '/stats/prometheus']);
  }
  const added: string[] = [];
  for (const [k, v] of wanted) {
    if (annotations[k] !== undefined) continue;
    annotations[k] = v;
    added.push(k);
  }
  return added;
}

/** Inject into a template not injected before (see injectPod), copy-on-write (see copyForInjection). */
function freshInject(template: PodTemplate, values: Values, version: string, native: boolean, shared: SharedParts | undefined): PodResult {
  const parts = shared ?? new SharedParts(values);
  const absent: string[] = [];
  const t = copyForInjection(template, absent);
  const md = t.metadata;
  const spec = t.spec;
  const s = parts.settings(md.annotations);
  const changes: string[] = [];
  const notes: string[] = [];

  const { probes, originals } = s.rewriteProbes ? rewriteProbes(spec.containers, values.proxy.readinessPort, changes, notes) : { probes: [], originals: {} };

  // A run-to-completion pod (a Job's) with a classic sidecar: the proxy watches the app containers
  // through a shared PID namespace and exits after them, or the pod would never complete.
  const runsToCompletion = spec.restartPolicy === 'Never' || spec.restartPolicy === 'OnFailure';
  const exitWithApp = !native && runsToCompletion && spec.shareProcessNamespace !== false;
  if (!native && runsToCompletion && !exitWithApp) notes.push('shareProcessNamespace: false keeps the proxy from seeing the app exit: this pod will not complete (use --native-sidecar on, Kubernetes >= 1.29)');
  if (exitWithApp && spec.shareProcessNamespace === undefined) {
    absent.push('spec.shareProcessNamespace');
    spec.shareProcessNamespace = true;
    changes.push('shared the pod\'s PID namespace so the proxy exits when the app containers have');
  }
  const grace = typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 30;
  if (grace < parts.drainSeconds()) notes.push(`terminationGracePeriodSeconds ${grace} is shorter than proxy.drainDuration ${values.proxy.drainDuration}: kubelet stops the proxy before its drain ends`);
  placeSidecars(spec, parts.proxy(s, native, exitWithApp), parts.init(s, version, probes), native, s.hold, absent, changes, notes);
  const addedSecrets = addPullSecrets(spec, parts.pullSecrets(), absent);
  if (!spec.volumes) absent.push('spec.volumes');
  spec.volumes = [...(spec.volumes ?? []), ...parts.volumes()];
  const addedAnnotations = addAnnotations(md.annotations, spec.containers, values);
  const addedLabels = md.labels[LABEL_PROXY_VERSION] === undefined ? [LABEL_PROXY_VERSION] : [];
  md.labels[LABEL_PROXY_VERSION] = version;

  const status: InjectStatus = {
    version,
    nativeSidecar: native,
    exitWithApp,
    ...(addedSecrets.length ? { imagePullSecrets: addedSecrets } : {}),
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

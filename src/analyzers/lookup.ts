import type { KubeObject } from '../cluster/types.js';
import { ANNOTATION_INJECT, ANNOTATION_MTLS, LABEL_INJECT } from '../constants.js';
import { buildModel, inNamespace, selectedIn, type MeshModel, type MtlsMode } from '../model/index.js';
import type { ResourceRef, SourceLocation, SourcedObject } from './types.js';
import { isObject } from '../util/object.js';

/**
 * The one lookup layer analyzers read through: raw objects (for references the model drops and for
 * file/line locations) next to the pure mesh model (for protocols, mTLS modes, authorization).
 * Built once per run; analyzers never touch the cluster.
 */

type Obj = Record<string, unknown>;

/** A pod template or bare Pod: what the analyzers call a workload. */
export interface WorkloadInfo {
  ref: ResourceRef;
  src: SourcedObject;
  namespace: string;
  /** Pod labels (the template's for controllers). */
  labels: Record<string, string>;
  /** Pod annotations (the template's for controllers). */
  podAnnotations: Record<string, string>;
  serviceAccount: string;
  containers: Obj[];
  /** true / false when known; undefined when the input cannot tell (namespace not in the input). */
  injected: boolean | undefined;
  mtls: MtlsMode;
  /** Does it serve traffic (not a Job or CronJob)? */
  serves: boolean;
}

/** The indexed input of one analysis run. */
export interface AnalysisIndex {
  objects: SourcedObject[];
  /** Objects by kind (exact kind name). */
  kinds: Map<string, SourcedObject[]>;
  /** `NS/NAME` -> Service. */
  services: Map<string, SourcedObject>;
  /** Namespace name -> Namespace object when present in the input. */
  namespaceObjects: Map<string, KubeObject>;
  /** Every namespace some object lives in or that is declared. */
  namespaces: Set<string>;
  workloads: WorkloadInfo[];
  /** Workloads by namespace (analyzers only ever match within a namespace). */
  workloadsIn(namespace: string): readonly WorkloadInfo[];
  /**
   * The workloads of `namespace` a matchLabels selector selects ({@link selects}: an empty or
   * missing selector selects nothing), in workloadsIn order. Looked up by one of the selector's
   * labels instead of testing every workload: 10,000 Services or policies over as many workloads.
   */
  selectedBy(namespace: string, selector: Record<string, string> | undefined): readonly WorkloadInfo[];
  /** `NS/NAME` of every ServiceAccount known: declared ones plus those workloads run as. */
  serviceAccounts: Set<string>;
  /** Whether the input is a whole cluster (live), so absence means absence. */
  complete: boolean;
  model: MeshModel;
  /** Sidecar container name: a pod with it is injected. */
  proxyContainer: string;
}

const CONTROLLERS: Record<string, (o: KubeObject) => Obj | undefined> = {
  Deployment: (o) => templateOf(o.spec),
  StatefulSet: (o) => templateOf(o.spec),
  DaemonSet: (o) => templateOf(o.spec),
  ReplicaSet: (o) => templateOf(o.spec),
  ReplicationController: (o) => templateOf(o.spec),
  Job: (o) => templateOf(o.spec),
  CronJob: (o) => templateOf(isObject(o.spec) && isObject(o.spec.jobTemplate) ? o.spec.jobTemplate.spec : undefined),
};

function templateOf(spec: unknown): Obj | undefined {
  return isObject(spec) && isObject(spec.template) ? spec.template : undefined;
}

/** Array elements that are plain objects. */
export function arr(v: unknown): Obj[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}
/** A non-empty string or undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(v)) for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** `kind/ns/name` reference of an object. */
export function refOf(o: KubeObject): ResourceRef {
  const r: ResourceRef = { kind: o.kind, name: o.metadata?.name ?? '' };
  if (o.metadata?.namespace) r.namespace = o.metadata.namespace;
  return r;
}

/** Human form of a reference: `Service shop/catalog`. */
export function describeRef(r: ResourceRef): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

function parseMtls(v: string | undefined): MtlsMode | undefined {
  const u = v?.toUpperCase();
  return u === 'STRICT' || u === 'PERMISSIVE' || u === 'DISABLE' ? u : undefined;
}

/** Options of {@link buildIndex}. */
export interface IndexOptions {
  /** The input is a whole cluster (live), so a missing object really is missing. Default false. */
  complete?: boolean;
  proxyContainer?: string;
}

/** Index objects for the analyzers. Objects without kind or name are ignored. Pure. */
export function buildIndex(input: readonly SourcedObject[], opts: IndexOptions = {}): AnalysisIndex {
  const objects = input.filter((s) => s.object && typeof s.object.kind === 'string' && typeof s.object.metadata?.name === 'string');
  for (const s of objects) if (!s.object.metadata.namespace && isNamespaced(s.object.kind)) s.object.metadata.namespace = 'default';
  const kinds = new Map<string, SourcedObject[]>();
  for (const s of objects) {
    const list = kinds.get(s.object.kind);
    if (list) list.push(s);
    else kinds.set(s.object.kind, [s]);
  }
  const of = (k: string): SourcedObject[] => kinds.get(k) ?? [];
  const services = new Map<string, SourcedObject>();
  for (const s of of('Service')) services.set(`${s.object.metadata.namespace}/${s.object.metadata.name}`, s);
  const namespaceObjects = new Map<string, KubeObject>();
  for (const s of of('Namespace')) namespaceObjects.set(s.object.metadata.name, s.object);
  const namespaces = new Set<string>(namespaceObjects.keys());
  for (const s of objects) if (s.object.metadata.namespace) namespaces.add(s.object.metadata.namespace);

  const model = buildModel(objects.map((s) => s.object));
  const nsMtls = new Map(model.namespaces.map((n) => [n.name, n.mtls]));
  const proxyContainer = opts.proxyContainer ?? 'mesh-proxy';
  const complete = opts.complete ?? false;

  const workloads: WorkloadInfo[] = [];
  const serviceAccounts = new Set<string>();
  for (const s of of('ServiceAccount')) serviceAccounts.add(`${s.object.metadata.namespace}/${s.object.metadata.name}`);
  const add = (src: SourcedObject, tmpl: Obj, serves: boolean): void => {
    const o = src.object;
    const ns = o.metadata.namespace ?? 'default';
    const meta = isObject(tmpl.metadata) ? tmpl.metadata : {};
    const spec = isObject(tmpl.spec) ? tmpl.spec : {};
    const labels = strMap(meta.labels);
    const podAnnotations = strMap(meta.annotations);
    const containers = arr(spec.containers);
    const sa = str(spec.serviceAccountName) ?? str(spec.serviceAccount) ?? 'default';
    serviceAccounts.add(`${ns}/${sa}`);
    let injected: boolean | undefined;
    const nsObj = namespaceObjects.get(ns);
    if (containers.some((c) => c.name === proxyContainer)) injected = true;
    else if (spec.hostNetwork === true) injected = false;
    else if (podAnnotations[ANNOTATION_INJECT] === 'disabled') injected = false;
    else if (podAnnotations[ANNOTATION_INJECT] === 'enabled') injected = true;
    else if (o.kind === 'Pod' && complete) injected = false; // a live pod without the sidecar is not injected
    else if (nsObj) injected = nsObj.metadata.labels?.[LABEL_INJECT] === 'enabled';
    else injected = complete ? false : undefined;
    workloads.push({
      ref: refOf(o),
      src,
      namespace: ns,
      labels,
      podAnnotations,
      serviceAccount: sa,
      containers,
      injected,
      mtls: parseMtls(podAnnotations[ANNOTATION_MTLS]) ?? nsMtls.get(ns) ?? 'PERMISSIVE',
      serves,
    });
  };
  for (const [kind, tmplOf] of Object.entries(CONTROLLERS)) {
    for (const s of of(kind)) {
      // ReplicaSets and Jobs owned by a Deployment/CronJob are that controller's; count them once.
      if ((kind === 'ReplicaSet' || kind === 'Job') && s.object.metadata.ownerReferences?.some((r) => r.controller)) continue;
      const t = tmplOf(s.object);
      if (t) add(s, t, kind !== 'Job' && kind !== 'CronJob');
    }
  }
  for (const s of of('Pod')) {
    if (s.object.metadata.ownerReferences?.some((r) => r.controller)) continue;
    add(s, { metadata: s.object.metadata, spec: s.object.spec }, true);
  }
  const workloadsIn = (ns: string): readonly WorkloadInfo[] => inNamespace(workloads, ns);
  // A plain selector: an empty or missing one selects nothing (selectedIn would take it as all).
  const selectedBy = (ns: string, selector: Record<string, string> | undefined): readonly WorkloadInfo[] =>
    selector && Object.keys(selector).length > 0 ? selectedIn(workloads, ns, selector) : [];
  return { objects, kinds, services, namespaceObjects, namespaces, workloads, workloadsIn, selectedBy, serviceAccounts, complete, model, proxyContainer };
}

const CLUSTER_SCOPED = new Set(['Namespace', 'Node', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'PersistentVolume', 'StorageClass', 'PriorityClass', 'APIService', 'IngressClass', 'GatewayClass']);

function isNamespaced(kind: string): boolean {
  return !CLUSTER_SCOPED.has(kind);
}

/** The location of an object, as finding fields. */
export function where(src: SourcedObject): { file?: string; line?: number } {
  return src.location ? { file: src.location.file, line: src.location.line } : {};
}

/** Location helper for tests and renderers. */
export type { SourceLocation };

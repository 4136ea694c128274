// The kinds the test server serves: the built-ins the mesh touches, plus kinds registered by CRDs.
// Everything a resource needs for discovery, routing, errors and per-kind bookkeeping is here.

/** One served resource (one group/version/resource), as discovery describes it. */
export interface ResourceDef {
  group: string;
  /** Served versions; the first is the preferred (and storage) version. */
  versions: string[];
  resource: string;
  kind: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Subresources served: status, scale, proxy, log, token. */
  subresources?: string[];
  /** Only these verbs (reviews are create-only); default: the full CRUD + watch set. */
  verbs?: string[];
  /** metadata.generation is kept and bumped on spec changes (workloads, CRDs, custom resources). */
  generation?: boolean;
  /** Defined by a CustomResourceDefinition (lists carry kind/apiVersion on items, like the real server). */
  custom?: boolean;
  /** A CRD's additionalPrinterColumns (kubectl get columns). */
  printerColumns?: PrinterColumn[];
}

/** One CRD additionalPrinterColumns entry. */
export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  format?: string;
  priority?: number;
  description?: string;
}

/** The default verbs of a storage-backed resource. */
export const CRUD_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const r = (group: string, version: string, resource: string, kind: string, namespaced: boolean, extra: Partial<ResourceDef> = {}): ResourceDef => ({
  group,
  versions: [version],
  resource,
  kind,
  singular: kind.toLowerCase(),
  namespaced,
  ...extra,
});

/** Built-in resources, in discovery order. */
export const BUILTIN_RESOURCES: ResourceDef[] = [
  r('', 'v1', 'namespaces', 'Namespace', false, { shortNames: ['ns'], subresources: ['status'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }),
  r('', 'v1', 'nodes', 'Node', false, { shortNames: ['no'], subresources: ['status'] }),
  r('', 'v1', 'pods', 'Pod', true, { shortNames: ['po'], categories: ['all'], subresources: ['status', 'proxy', 'log'] }),
  r('', 'v1', 'services', 'Service', true, { shortNames: ['svc'], categories: ['all'], subresources: ['status', 'proxy'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] }),
  r('', 'v1', 'endpoints', 'Endpoints', true, { shortNames: ['ep'], singular: 'endpoints' }),
  r('', 'v1', 'serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'], subresources: ['token'] }),
  r('', 'v1', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  r('', 'v1', 'secrets', 'Secret', true),
  r('', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  r('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true, { shortNames: ['pvc'], subresources: ['status'] }),
  r('apps', 'v1', 'deployments', 'Deployment', true, { shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'], generation: true }),
  r('apps', 'v1', 'statefulsets', 'StatefulSet', true, { shortNames: ['sts'], categories: ['all'], subresources: ['status', 'scale'], generation: true }),
  r('apps', 'v1', 'daemonsets', 'DaemonSet', true, { shortNames: ['ds'], categories: ['all'], subresources: ['status'], generation: true }),
  r('apps', 'v1', 'replicasets', 'ReplicaSet', true, { shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'], generation: true }),
  r('apps', 'v1', 'controllerrevisions', 'ControllerRevision', true),
  r('batch', 'v1', 'jobs', 'Job', true, { categories: ['all'], subresources: ['status'], generation: true }),
  r('batch', 'v1', 'cronjobs', 'CronJob', true, { shortNames: ['cj'], categories: ['all'], subresources: ['status'], generation: true }),
  r('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  r('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  r('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  r('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  r('admissionregistration.k8s.io', 'v1', 'mutatingwebhookconfigurations', 'MutatingWebhookConfiguration', false, { generation: true }),
  r('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations', 'ValidatingWebhookConfiguration', false, { generation: true }),
  r('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false, { shortNames: ['crd', 'crds'], categories: ['api-extensions'], subresources: ['status'], generation: true }),
  r('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  r('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true, { shortNames: ['pdb'], subresources: ['status'], generation: true }),
  r('events.k8s.io', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  r('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true),
  r('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', true, { shortNames: ['netpol'], generation: true }),
  r('authentication.k8s.io', 'v1', 'tokenreviews', 'TokenReview', false, { verbs: ['create'] }),
  r('authentication.k8s.io', 'v1', 'selfsubjectreviews', 'SelfSubjectReview', false, { verbs: ['create'] }),
  r('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, { verbs: ['create'] }),
  r('authorization.k8s.io', 'v1', 'selfsubjectrulesreviews', 'SelfSubjectRulesReview', false, { verbs: ['create'] }),
  r('authorization.k8s.io', 'v1', 'subjectaccessreviews', 'SubjectAccessReview', false, { verbs: ['create'] }),
];

/** "group/version" as apiVersion spells it ("v1" for the core group). */
export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** "resource" or "resource.group", as error messages name a resource. */
export function qualifiedResource(def: Pick<ResourceDef, 'group' | 'resource'>): string {
  return def.group ? `${def.resource}.${def.group}` : def.resource;
}

/** The verbs a resource answers, for discovery and MethodNotAllowed. */
export function verbsOf(def: ResourceDef): string[] {
  return def.verbs ?? CRUD_VERBS;
}

/** Resources the server serves right now: built-ins plus established CRDs. Mutated by the server. */
export class Registry {
  private readonly defs: ResourceDef[] = [...BUILTIN_RESOURCES];

  all(): readonly ResourceDef[] {
    return this.defs;
  }

  /** The resource served at group/version/resource, if any. */
  find(group: string, version: string, resource: string): ResourceDef | undefined {
    return this.defs.find((d) => d.group === group && d.resource === resource && d.versions.includes(version));
  }

  /** Look a resource up by kind (any served version). */
  byKind(group: string, kind: string): ResourceDef | undefined {
    return this.defs.find((d) => d.group === group && d.kind === kind);
  }

  /** Group -> versions (preferred first), in registration order. */
  groups(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    for (const d of this.defs) {
      const vs = m.get(d.group) ?? [];
      for (const v of d.versions) if (!vs.includes(v)) vs.push(v);
      m.set(d.group, vs);
    }
    return m;
  }

  /** Add or replace a custom resource (CRD established or updated). */
  upsert(def: ResourceDef): void {
    this.remove(def.group, def.resource);
    this.defs.push(def);
  }

  remove(group: string, resource: string): void {
    const i = this.defs.findIndex((d) => d.group === group && d.resource === resource && d.custom);
    if (i >= 0) this.defs.splice(i, 1);
  }
}

interface CrdLike {
  spec?: {
    group?: string;
    scope?: string;
    names?: { plural?: string; singular?: string; kind?: string; shortNames?: string[]; categories?: string[] };
    versions?: { name: string; served?: boolean; storage?: boolean; subresources?: { status?: unknown; scale?: unknown }; additionalPrinterColumns?: PrinterColumn[] }[];
  };
}

/** The resource a CustomResourceDefinition defines, or an error message naming what is missing. */
export function defFromCrd(crd: CrdLike): ResourceDef | string {
  const s = crd.spec;
  if (!s?.group || !s.names?.plural || !s.names.kind || !s.versions?.length) return 'spec.group, spec.names.plural, spec.names.kind and spec.versions are required';
  const served = s.versions.filter((v) => v.served !== false);
  const storage = served.find((v) => v.storage) ?? served[0];
  if (!storage) return 'spec.versions: at least one version must be served';
  const subresources: string[] = [];
  if (served.some((v) => v.subresources?.status)) subresources.push('status');
  if (served.some((v) => v.subresources?.scale)) subresources.push('scale');
  return {
    group: s.group,
    versions: [storage.name, ...served.filter((v) => v !== storage).map((v) => v.name)],
    resource: s.names.plural,
    kind: s.names.kind,
    singular: s.names.singular ?? s.names.kind.toLowerCase(),
    namespaced: s.scope !== 'Cluster',
    shortNames: s.names.shortNames,
    categories: s.names.categories,
    subresources,
    generation: true,
    custom: true,
    printerColumns: storage.additionalPrinterColumns,
  };
}

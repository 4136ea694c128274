// Server-side printing: kubectl asks for `as=Table` and prints the columns the server chose.
// The columns follow the real printers for the kinds people look at; others get NAME and AGE.
import type { KObj } from './store.ts';
import type { ResourceDef } from './resources.ts';

type Obj = Record<string, unknown>;
interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  cell: (o: KObj) => unknown;
}

/** kubectl's short age ("5s", "3m20s", "4h", "12d"). */
export function humanAge(from: string | undefined, now = Date.now()): string {
  if (!from) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(from)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  return d < 8 && h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

const get = (o: unknown, path: string): unknown => path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Obj)[k] : undefined), o);
const num = (v: unknown) => (typeof v === 'number' ? v : 0);
const name: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name };
const age: Column = { name: 'Age', type: 'string', cell: (o) => humanAge(o.metadata.creationTimestamp as string | undefined) };

function podReady(o: KObj): string {
  const statuses = (get(o, 'status.containerStatuses') as Obj[] | undefined) ?? [];
  const total = ((get(o, 'spec.containers') as unknown[] | undefined) ?? []).length;
  return `${statuses.filter((s) => s.ready === true).length}/${total}`;
}

function servicePorts(o: KObj): string {
  const ports = (get(o, 'spec.ports') as Obj[] | undefined) ?? [];
  if (!ports.length) return '<none>';
  return ports.map((p) => `${String(p.port)}${p.nodePort ? `:${String(p.nodePort)}` : ''}/${String(p.protocol ?? 'TCP')}`).join(',');
}

const COLUMNS: Record<string, Column[]> = {
  '/pods': [
    name,
    { name: 'Ready', type: 'string', cell: podReady },
    { name: 'Status', type: 'string', cell: (o) => (o.metadata.deletionTimestamp ? 'Terminating' : (get(o, 'status.phase') ?? 'Pending')) },
    { name: 'Restarts', type: 'string', cell: (o) => String(((get(o, 'status.containerStatuses') as Obj[] | undefined) ?? []).reduce((n, s) => n + num(s.restartCount), 0)) },
    age,
    { name: 'IP', type: 'string', priority: 1, cell: (o) => get(o, 'status.podIP') ?? '<none>' },
    { name: 'Node', type: 'string', priority: 1, cell: (o) => get(o, 'spec.nodeName') ?? '<none>' },
  ],
  '/services': [
    name,
    { name: 'Type', type: 'string', cell: (o) => get(o, 'spec.type') ?? 'ClusterIP' },
    { name: 'Cluster-IP', type: 'string', cell: (o) => get(o, 'spec.clusterIP') ?? '<none>' },
    { name: 'External-IP', type: 'string', cell: () => '<none>' },
    { name: 'Port(s)', type: 'string', cell: servicePorts },
    age,
  ],
  'apps/deployments': [
    name,
    { name: 'Ready', type: 'string', cell: (o) => `${num(get(o, 'status.readyReplicas'))}/${num(get(o, 'spec.replicas'))}` },
    { name: 'Up-to-date', type: 'integer', cell: (o) => num(get(o, 'status.updatedReplicas')) },
    { name: 'Available', type: 'integer', cell: (o) => num(get(o, 'status.availableReplicas')) },
    age,
  ],
  'apps/replicasets': [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => num(get(o, 'spec.replicas')) },
    { name: 'Current', type: 'integer', cell: (o) => num(get(o, 'status.replicas')) },
    { name: 'Ready', type: 'integer', cell: (o) => num(get(o, 'status.readyReplicas')) },
    age,
  ],
  'apps/statefulsets': [name, { name: 'Ready', type: 'string', cell: (o) => `${num(get(o, 'status.readyReplicas'))}/${num(get(o, 'spec.replicas'))}` }, age],
  'apps/daemonsets': [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => num(get(o, 'status.desiredNumberScheduled')) },
    { name: 'Current', type: 'integer', cell: (o) => num(get(o, 'status.currentNumberScheduled')) },
    { name: 'Ready', type: 'integer', cell: (o) => num(get(o, 'status.numberReady')) },
    { name: 'Up-to-date', type: 'integer', cell: (o) => num(get(o, 'status.updatedNumberScheduled')) },
    { name: 'Available', type: 'integer', cell: (o) => num(get(o, 'status.numberAvailable')) },
    { name: 'Node Selector', type: 'string', cell: (o) => Object.entries((get(o, 'spec.template.spec.nodeSelector') as Obj | undefined) ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',') || '<none>' },
    age,
  ],
  '/endpoints': [
    name,
    { name: 'Endpoints', type: 'string', cell: (o) => {
      const eps = ((o.subsets as Obj[] | undefined) ?? []).flatMap((s) => ((s.addresses as Obj[] | undefined) ?? []).flatMap((a) => ((s.ports as Obj[] | undefined) ?? [{}]).map((p) => (p.port ? `${String(a.ip)}:${String(p.port)}` : String(a.ip)))));
      return eps.length ? eps.slice(0, 3).join(',') + (eps.length > 3 ? ` + ${eps.length - 3} more...` : '') : '<none>';
    } },
    age,
  ],
  '/namespaces': [name, { name: 'Status', type: 'string', cell: (o) => get(o, 'status.phase') ?? 'Active' }, age],
  '/configmaps': [name, { name: 'Data', type: 'integer', cell: (o) => Object.keys((o.data as Obj) ?? {}).length + Object.keys((o.binaryData as Obj) ?? {}).length }, age],
  '/secrets': [name, { name: 'Type', type: 'string', cell: (o) => o.type ?? 'Opaque' }, { name: 'Data', type: 'integer', cell: (o) => Object.keys((o.data as Obj) ?? {}).length }, age],
  '/serviceaccounts': [name, { name: 'Secrets', type: 'integer', cell: (o) => ((o.secrets as unknown[]) ?? []).length }, age],
  'apiextensions.k8s.io/customresourcedefinitions': [name, { name: 'Created At', type: 'date', cell: (o) => o.metadata.creationTimestamp }],
};

/**
 * A small JSONPath for printer columns: `.a.b`, `.list[0]`, `.list[*].x` and filters such as
 * `.status.conditions[?(@.type=="Ready")].status`. Returns every match.
 */
export function jsonPath(obj: unknown, path: string): unknown[] {
  const tokens = path.replace(/^\{|\}$/g, '').match(/\.[^.[\]]+|\[[^\]]*\]/g) ?? [];
  let cur: unknown[] = [obj];
  for (const t of tokens) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (t.startsWith('.')) {
        if (isObjLike(v) && t.slice(1) in v) next.push(v[t.slice(1)]);
      } else if (Array.isArray(v)) {
        const inner = t.slice(1, -1);
        const f = /^\?\(@\.([\w.]+)\s*==\s*["']?([^"')]*)["']?\)$/.exec(inner);
        if (inner === '*') next.push(...v);
        else if (f) next.push(...v.filter((x) => String(jsonPath(x, `.${f[1]}`)[0]) === f[2]));
        else if (v[Number(inner)] !== undefined) next.push(v[Number(inner)]);
      }
    }
    cur = next;
  }
  return cur;
}
const isObjLike = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

// Columns of a custom resource: Name, the CRD's additionalPrinterColumns (dates shown as ages), or Age.
function customColumns(def: ResourceDef): Column[] {
  if (!def.printerColumns?.length) return [name, age];
  return [
    name,
    ...def.printerColumns.map((pc) => ({
      name: pc.name,
      type: pc.type,
      format: pc.format,
      priority: pc.priority,
      cell: (o: KObj) => {
        const v = jsonPath(o, pc.jsonPath);
        if (v.length === 0) return null;
        if (pc.type === 'date') return humanAge(String(v[0]));
        return v.length === 1 ? (typeof v[0] === 'object' ? JSON.stringify(v[0]) : v[0]) : v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(',');
      },
    })),
  ];
}

/** A meta.k8s.io/v1 Table of these objects (rows carry PartialObjectMetadata, as by default). */
export function toTable(def: ResourceDef, objects: KObj[], resourceVersion: string, withHeaders = true): Obj {
  const cols = def.custom ? customColumns(def) : (COLUMNS[`${def.group}/${def.resource}`] ?? [name, age]);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: withHeaders ? cols.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: '', priority: c.priority ?? 0 })) : [],
    rows: objects.map((o) => ({
      cells: cols.map((c) => c.cell(o)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

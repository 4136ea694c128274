// Discovery documents (/api, /apis, APIResourceLists) and a minimal OpenAPI v3 that tells
// kubectl which kinds accept the fieldValidation parameter (so `kubectl apply` validates
// server-side instead of downloading schemas).
import { createHash } from 'node:crypto';
import { apiVersionOf, verbsOf, type Registry, type ResourceDef } from './resources.ts';

type Obj = Record<string, unknown>;

/** The /version answer: a Kubernetes 1.32 server. */
export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0',
  gitCommit: '70d3cc986aa8221cd1dfb1121852688902d3bf53',
  gitTreeState: 'clean',
  buildDate: '2024-12-11T17:59:15Z',
  goVersion: 'go1.23.3',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/** /api */
export function apiVersions(serverAddress: string): Obj {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupDoc(name: string, versions: string[]): Obj {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

/** /apis: every non-core group, preferred version first. */
export function apiGroupList(reg: Registry): Obj {
  const groups = [...reg.groups()].filter(([g]) => g !== '').map(([g, vs]) => groupDoc(g, vs));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

/** /apis/GROUP, or undefined when the group is not served. */
export function apiGroup(reg: Registry, group: string): Obj | undefined {
  const vs = reg.groups().get(group);
  return vs && group ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(group, vs) } : undefined;
}

function storageHash(def: ResourceDef): string {
  return createHash('sha256').update(`${def.group}/${def.versions[0]}/${def.kind}`).digest('base64').slice(0, 11);
}

/** /api/v1 or /apis/GROUP/VERSION, or undefined when not served. */
export function apiResourceList(reg: Registry, group: string, version: string): Obj | undefined {
  const defs = reg.all().filter((d) => d.group === group && d.versions.includes(version));
  if (defs.length === 0) return undefined;
  const resources: Obj[] = [];
  for (const d of defs) {
    const r: Obj = { name: d.resource, singularName: d.singular, namespaced: d.namespaced, kind: d.kind, verbs: verbsOf(d) };
    if (d.shortNames?.length) r.shortNames = d.shortNames;
    if (d.categories?.length) r.categories = d.categories;
    if (verbsOf(d).includes('list')) r.storageVersionHash = storageHash(d);
    resources.push(r);
    for (const sub of d.subresources ?? []) {
      if (sub === 'status') resources.push({ name: `${d.resource}/status`, singularName: '', namespaced: d.namespaced, kind: d.kind, verbs: ['get', 'patch', 'update'] });
      if (sub === 'scale') resources.push({ name: `${d.resource}/scale`, singularName: '', namespaced: d.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
      if (sub === 'log') resources.push({ name: `${d.resource}/log`, singularName: '', namespaced: d.namespaced, kind: d.kind, verbs: ['get'] });
      if (sub === 'token') resources.push({ name: `${d.resource}/token`, singularName: '', namespaced: d.namespaced, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] });
      if (sub === 'proxy') resources.push({ name: `${d.resource}/proxy`, singularName: '', namespaced: d.namespaced, kind: `${d.kind}ProxyOptions`, verbs: ['create', 'delete', 'get', 'patch', 'update'] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources };
}

const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`);

/** /openapi/v3: one entry per served group/version. */
export function openApiV3Index(reg: Registry): Obj {
  const paths: Obj = {};
  for (const [g, vs] of reg.groups()) {
    for (const v of vs) {
      const p = gvPath(g, v);
      paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${createHash('sha256').update(JSON.stringify(openApiV3(reg, g, v))).digest('hex').slice(0, 16)}` };
    }
  }
  return { paths };
}

/**
 * /openapi/v3/api/v1 etc.: the paths of each resource with their PATCH operation tagged by
 * group/version/kind and the fieldValidation parameter. No schemas: kubectl then falls back to its
 * compiled-in types for strategic merge and to JSON merge patch for custom resources.
 */
export function openApiV3(reg: Registry, group: string, version: string): Obj | undefined {
  const defs = reg.all().filter((d) => d.group === group && d.versions.includes(version) && verbsOf(d).includes('patch'));
  if (!reg.groups().get(group)?.includes(version)) return undefined;
  const paths: Obj = {};
  const params = [
    { name: 'dryRun', in: 'query', schema: { type: 'string' } },
    { name: 'fieldManager', in: 'query', schema: { type: 'string' } },
    { name: 'fieldValidation', in: 'query', schema: { type: 'string' } },
    { name: 'force', in: 'query', schema: { type: 'boolean' } },
  ];
  for (const d of defs) {
    const base = `/${gvPath(group, version)}/${d.namespaced ? 'namespaces/{namespace}/' : ''}${d.resource}/{name}`;
    const gvk = { group, version, kind: d.kind };
    paths[base] = {
      patch: {
        operationId: `patch${d.kind}`,
        parameters: params,
        responses: { '200': { description: 'OK' } },
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
      },
      put: {
        operationId: `replace${d.kind}`,
        parameters: params.filter((p) => p.name !== 'force'),
        responses: { '200': { description: 'OK' } },
        'x-kubernetes-action': 'put',
        'x-kubernetes-group-version-kind': gvk,
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: VERSION_INFO.gitVersion }, paths, components: { schemas: {} } };
}

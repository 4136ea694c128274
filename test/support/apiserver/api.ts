// The API's semantics, independent of HTTP: create/update/patch/apply/delete/list with the
// validation, defaulting and bookkeeping the real server does (uid, creationTimestamp,
// generation, managedFields, status subresource, namespace lifecycle, garbage collection by
// ownerReferences, CRD registration). The HTTP layer and the kubelet helper both call this.
import { randomUUID } from 'node:crypto';
import { serverSideApply, recordUpdate } from './apply.ts';
import { admitCustomResource } from './crdschema.ts';
import * as E from './errors.ts';
import { clone, deepEqual, isObj, jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';
import { apiVersionOf, defFromCrd, type Registry, type ResourceDef } from './resources.ts';
import { fieldSelector, labelSelector } from './selectors.ts';
import { resKey, type KObj, type Store } from './store.ts';

type Obj = Record<string, unknown>;

/** Options every write takes (query parameters of the real API). */
export interface WriteOptions {
  /** metadata.managedFields manager (fieldManager query parameter, else from the User-Agent). */
  manager?: string;
  dryRun?: boolean;
  /** Server-side apply: take fields from other managers. */
  force?: boolean;
}

/** List query parameters. */
export interface ListQuery {
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continue?: string | null;
}

/** Patch content types the server accepts. */
export const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'] as const;
/** One of PATCH_TYPES. */
export type PatchType = (typeof PATCH_TYPES)[number];

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function meta(o: Obj): Obj {
  if (!isObj(o.metadata)) o.metadata = {};
  return o.metadata as Obj;
}

function nameError(def: ResourceDef, name: string): string | undefined {
  if (def.group === 'rbac.authorization.k8s.io') return /[/%]/.test(name) || name === '.' || name === '..' ? `Invalid value: "${name}": may not contain '/' or '%'` : undefined;
  if (def.resource === 'namespaces')
    return DNS1123_LABEL.test(name) && name.length <= 63 ? undefined : `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`;
  if (def.resource === 'services')
    return DNS1035_LABEL.test(name) && name.length <= 63 ? undefined : `Invalid value: "${name}": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`;
  return DNS1123_SUBDOMAIN.test(name) && name.length <= 253 ? undefined : `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`;
}

// Everything but metadata and status: a change here bumps metadata.generation.
const specOf = (o: Obj) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'metadata' && k !== 'status' && k !== 'apiVersion' && k !== 'kind'));

/** The API operations over one store and registry. Not bound to a user: the HTTP layer authorizes. */
export class Api {
  private nextServiceIp = 1;
  private nextNodePort = 0;
  /** How long a deleted namespace stays Terminating before its contents and itself are removed. */
  namespaceFinalizeDelayMs = 0;

  constructor(readonly store: Store, readonly registry: Registry) {}

  /** Shape an object as served in `version` (CRDs serve every version from one stored copy). */
  present(def: ResourceDef, o: KObj, version = def.versions[0]!): KObj {
    return { ...o, apiVersion: apiVersionOf(def.group, version), kind: def.kind };
  }

  get(def: ResourceDef, ns: string | undefined, name: string): KObj {
    const o = this.store.get(def, ns, name);
    if (!o) throw E.notFound(def, name);
    return o;
  }

  /** A list with selectors and limit/continue; `items` keep kind/apiVersion only for custom resources (like the real server). */
  list(def: ResourceDef, ns: string | undefined, q: ListQuery, version = def.versions[0]!): Obj {
    const lsel = labelSelector(q.labelSelector);
    const fsel = fieldSelector(q.fieldSelector);
    const listMeta: Obj = { resourceVersion: String(this.store.resourceVersion) };
    let after: string | undefined;
    if (q.continue) {
      let tok: { rv: number; start: string };
      try {
        tok = JSON.parse(Buffer.from(q.continue, 'base64url').toString()) as { rv: number; start: string };
      } catch {
        throw E.badRequest('continue key is not valid: illegal base64 data');
      }
      if (tok.rv < this.store.oldestResumable) {
        throw E.gone('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
      }
      after = tok.start;
    }
    const page = this.store.page(def, ns, (o) => lsel(o) && fsel(o), after, q.limit && q.limit > 0 ? q.limit : 0);
    const items = page.items.map((o) => this.present(def, o, version));
    if (page.remaining > 0) {
      const last = items[items.length - 1]!;
      listMeta.continue = Buffer.from(JSON.stringify({ rv: this.store.resourceVersion, start: `${last.metadata.namespace ?? ''}/${last.metadata.name}` })).toString('base64url');
      listMeta.remainingItemCount = page.remaining;
    }
    return {
      kind: `${def.kind}List`,
      apiVersion: apiVersionOf(def.group, version),
      metadata: listMeta,
      items: def.custom ? items : items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest),
    };
  }

  /** POST: validate, default, store. */
  create(def: ResourceDef, ns: string | undefined, body: unknown, opts: WriteOptions = {}, version = def.versions[0]!): KObj {
    if (!isObj(body)) throw E.badRequest('the body of the request was not a JSON object');
    const o = clone(body) as KObj;
    normalizeTimes(o);
    this.checkKind(def, o, version);
    const m = meta(o);
    if (def.namespaced) {
      if (m.namespace !== undefined && m.namespace !== '' && m.namespace !== ns) throw E.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      m.namespace = ns;
    } else delete m.namespace;
    if ((m.name === undefined || m.name === '') && typeof m.generateName === 'string' && m.generateName) {
      m.name = `${m.generateName}${randomUUID().replace(/-/g, '').slice(0, 5)}`;
    }
    const name = typeof m.name === 'string' ? m.name : '';
    if (!name) throw E.invalid(def.kind, def.group, '', [{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }]);
    const bad = nameError(def, name);
    if (bad) throw E.invalid(def.kind, def.group, name, [{ reason: 'FieldValueInvalid', message: bad, field: 'metadata.name' }]);
    if (def.namespaced) this.checkNamespace(def, ns!, name);
    if (this.store.get(def, ns, name)) throw E.alreadyExists(def, name);
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'generation', 'selfLink']) delete m[k];
    m.uid = randomUUID();
    m.creationTimestamp = now();
    if (def.generation) m.generation = 1;
    if (def.subresources?.includes('status')) delete o.status;
    this.defaultCreate(def, o);
    if (def.custom) admitCustomResource(def, version, o);
    if (m.managedFields === undefined) recordUpdate(undefined, o, opts.manager ?? 'unknown', o.apiVersion as string);
    this.registerCrd(def, o, opts.dryRun);
    const stored = opts.dryRun ? o : this.store.put(def, o);
    if (def.resource === 'namespaces' && !opts.dryRun) this.defaultServiceAccount(name);
    return this.present(def, stored, version);
  }

  /** PUT on the resource or on its status subresource. A stale metadata.resourceVersion is a 409. */
  update(def: ResourceDef, ns: string | undefined, name: string, body: unknown, opts: WriteOptions = {}, subresource?: string, version = def.versions[0]!): KObj {
    if (!isObj(body)) throw E.badRequest('the body of the request was not a JSON object');
    const cur = this.get(def, ns, name);
    const o = clone(body) as KObj;
    this.checkKind(def, o, version);
    const m = meta(o);
    if (m.name !== undefined && m.name !== name) throw E.badRequest(`the name of the object (${String(m.name)}) does not match the name on the URL (${name})`);
    if (m.resourceVersion !== undefined && m.resourceVersion !== '' && m.resourceVersion !== cur.metadata.resourceVersion) throw E.conflict(def, name);
    return this.commit(def, cur, o, opts, subresource, version, true);
  }

  /** PATCH of any of the four kinds (apply creates the object when missing). */
  patch(def: ResourceDef, ns: string | undefined, name: string, type: string, body: unknown, opts: WriteOptions = {}, subresource?: string, version = def.versions[0]!): KObj {
    const cur = this.store.get(def, ns, name);
    if (type === 'application/apply-patch+yaml') {
      if (!opts.manager) throw E.invalid('PatchOptions', 'meta.k8s.io', '', [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }]);
      if (!isObj(body)) throw E.badRequest('the apply configuration must be a YAML or JSON object');
      const cfg = body as KObj;
      this.checkKind(def, cfg, version, true);
      const cm = meta(cfg);
      if (cm.name !== undefined && cm.name !== name) throw E.badRequest(`the name of the object (${String(cm.name)}) does not match the name on the URL (${name})`);
      if (def.namespaced && cm.namespace !== undefined && cm.namespace !== ns) throw E.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      if (cur && cm.resourceVersion !== undefined && cm.resourceVersion !== cur.metadata.resourceVersion) throw E.conflict(def, name);
      const applied = serverSideApply(cur, cfg, opts.manager, apiVersionOf(def.group, version), opts.force ?? false, subresource) as KObj;
      if (!cur) {
        meta(applied).name = name;
        if (def.namespaced) meta(applied).namespace = ns;
        return this.create(def, ns, { ...applied, apiVersion: apiVersionOf(def.group, version), kind: def.kind }, { ...opts, manager: undefined }, version);
      }
      return this.commit(def, cur, applied, { ...opts, manager: undefined }, subresource, version, false);
    }
    if (!cur) throw E.notFound(def, name);
    const base = this.present(def, cur, version);
    let next: unknown;
    if (type === 'application/json-patch+json') next = jsonPatch(base, body);
    else if (type === 'application/merge-patch+json') next = mergePatch(base, body);
    else if (type === 'application/strategic-merge-patch+json') {
      if (def.custom) throw E.withCode(415, `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
      next = strategicMergePatch(base, body);
    } else throw E.unsupportedMediaType(type);
    if (!isObj(next)) throw E.badRequest('the patch produced something that is not an object');
    const o = next as KObj;
    const m = meta(o);
    if (m.resourceVersion !== undefined && m.resourceVersion !== cur.metadata.resourceVersion) throw E.conflict(def, name);
    if (m.name !== name) throw E.badRequest(`the name of the object (${String(m.name)}) does not match the name on the URL (${name})`);
    return this.commit(def, cur, o, opts, subresource, version, true);
  }

  // Keep server-owned fields, apply the status-subresource split, bump generation, track owners, store.
  private commit(def: ResourceDef, cur: KObj, o: KObj, opts: WriteOptions, subresource: string | undefined, version: string, track: boolean): KObj {
    normalizeTimes(o);
    let next: KObj;
    if (subresource === 'status') next = { ...clone(cur), status: o.status } as KObj;
    else {
      next = o;
      if (def.subresources?.includes('status')) {
        if (cur.status === undefined) delete next.status;
        else next.status = clone(cur.status);
      }
    }
    const m = meta(next);
    const cm = cur.metadata;
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'namespace', 'name']) {
      if (cm[k] === undefined) delete m[k];
      else m[k] = cm[k];
    }
    if (def.generation && subresource !== 'status' && !deepEqual(specOf(cur), specOf(next))) m.generation = Number(cm.generation ?? 0) + 1;
    // A write that sends managedFields different from the stored ones replaces them (how clients reset ownership).
    if (track && !(Array.isArray(m.managedFields) && !deepEqual(m.managedFields, cm.managedFields))) {
      m.managedFields = cm.managedFields;
      recordUpdate(cur, next, opts.manager ?? 'unknown', apiVersionOf(def.group, version), subresource);
    }
    next.apiVersion = apiVersionOf(def.group, def.versions[0]!);
    next.kind = def.kind;
    if (def.resource === 'services') this.defaultService(next, cur);
    if (subresource !== 'status') applyDefaults(def, next);
    if (def.custom) admitCustomResource(def, version, next);
    if (deepEqual(next, cur) || opts.dryRun) return this.present(def, deepEqual(next, cur) ? cur : next, version);
    this.registerCrd(def, next);
    // A deleted object whose last finalizer goes away is removed.
    if (m.deletionTimestamp && !(Array.isArray(m.finalizers) && m.finalizers.length)) {
      const stored = this.store.put(def, next);
      this.removeNow(def, stored, 'Background');
      return this.present(def, stored, version);
    }
    return this.present(def, this.store.put(def, next), version);
  }

  /** DELETE: namespaces terminate, finalizers defer, owners cascade (unless Orphan). Returns the object or a Status. */
  delete(def: ResourceDef, ns: string | undefined, name: string, body: Obj = {}, opts: WriteOptions = {}): KObj | E.Status {
    const cur = this.get(def, ns, name);
    const pre = isObj(body.preconditions) ? body.preconditions : {};
    if (pre.uid !== undefined && pre.uid !== cur.metadata.uid) throw E.conflict(def, name, `Precondition failed: UID in precondition: ${String(pre.uid)}, UID in object meta: ${String(cur.metadata.uid)}`);
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== cur.metadata.resourceVersion) throw E.conflict(def, name, `Precondition failed: ResourceVersion in precondition: ${String(pre.resourceVersion)}, ResourceVersion in object meta: ${String(cur.metadata.resourceVersion)}`);
    const policy = typeof body.propagationPolicy === 'string' ? body.propagationPolicy : body.orphanDependents === true ? 'Orphan' : 'Background';
    const returnsObject = ['pods', 'services', 'namespaces', 'customresourcedefinitions'].includes(def.resource) || def.custom;
    const answer = (o: KObj) => (returnsObject ? this.present(def, o) : E.success(def, name, String(cur.metadata.uid)));
    if (opts.dryRun) return answer(cur);
    if (def.resource === 'namespaces') {
      if (cur.metadata.deletionTimestamp) return answer(cur);
      const term = clone(cur);
      term.metadata.deletionTimestamp = now();
      term.status = { ...(isObj(term.status) ? term.status : {}), phase: 'Terminating' };
      const stored = this.store.put(def, term);
      setTimeout(() => this.finalizeNamespace(name), this.namespaceFinalizeDelayMs).unref();
      return answer(stored);
    }
    const fin = cur.metadata.finalizers;
    if (Array.isArray(fin) && fin.length) {
      if (cur.metadata.deletionTimestamp) return answer(cur);
      const marked = clone(cur);
      marked.metadata.deletionTimestamp = now();
      marked.metadata.deletionGracePeriodSeconds = 0;
      return answer(this.store.put(def, marked));
    }
    return answer(this.removeNow(def, cur, policy));
  }

  /** DELETE on a collection: deletes what the selectors match; returns the list of deleted objects. */
  deleteCollection(def: ResourceDef, ns: string | undefined, q: ListQuery, body: Obj = {}, opts: WriteOptions = {}): Obj {
    const list = this.list(def, ns, { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector });
    const items = list.items as KObj[];
    for (const it of items) {
      try {
        this.delete(def, it.metadata.namespace, it.metadata.name, body, opts);
      } catch (err) {
        if (!(err instanceof E.ApiError && err.code === 404)) throw err;
      }
    }
    return { ...list, metadata: { resourceVersion: String(this.store.resourceVersion) } };
  }

  private removeNow(def: ResourceDef, cur: KObj, policy: string): KObj {
    const gone = this.store.remove(def, cur.metadata.namespace, cur.metadata.name) ?? cur;
    if (def.resource === 'customresourcedefinitions') this.unregisterCrd(cur);
    this.collectDependents(String(cur.metadata.uid), policy);
    return gone;
  }

  // The garbage collector: dependents of a deleted owner are deleted (or orphaned).
  private collectDependents(uid: string, policy: string): void {
    for (const res of this.store.resources()) {
      const [group, resource] = res.split('/') as [string, string];
      const def = this.registry.all().find((d) => d.group === group && d.resource === resource);
      if (!def) continue;
      for (const o of this.store.listByKey(res)) {
        const refs = o.metadata.ownerReferences;
        if (!Array.isArray(refs) || !refs.some((r) => isObj(r) && r.uid === uid)) continue;
        if (policy === 'Orphan') {
          o.metadata.ownerReferences = refs.filter((r) => !(isObj(r) && r.uid === uid));
          this.store.put(def, o);
        } else {
          try {
            this.delete(def, o.metadata.namespace, o.metadata.name, { propagationPolicy: policy });
          } catch {
            // already gone
          }
        }
      }
    }
  }

  private finalizeNamespace(ns: string): void {
    for (const def of this.registry.all()) {
      if (!def.namespaced) continue;
      for (const o of this.store.list(def, ns)) {
        const gone = this.store.remove(def, ns, o.metadata.name);
        if (gone) this.collectDependents(String(gone.metadata.uid), 'Background');
      }
    }
    this.store.remove({ group: '', resource: 'namespaces' }, undefined, ns);
  }

  private checkKind(def: ResourceDef, o: Obj, version: string, required = false): void {
    const want = apiVersionOf(def.group, version);
    if (required && (!o.apiVersion || !o.kind)) throw E.badRequest(`Object 'Kind' is missing in '${JSON.stringify(o)}'`);
    if (o.apiVersion !== undefined && o.apiVersion !== want && !(def.group && def.versions.some((v) => o.apiVersion === apiVersionOf(def.group, v)))) {
      throw E.badRequest(`the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${want})`);
    }
    if (o.kind !== undefined && o.kind !== def.kind) throw E.badRequest(`the kind in the data (${String(o.kind)}) does not match the expected kind (${def.kind})`);
    o.apiVersion = apiVersionOf(def.group, def.versions[0]!);
    o.kind = def.kind;
  }

  private checkNamespace(def: ResourceDef, ns: string, name: string): void {
    const n = this.store.get({ group: '', resource: 'namespaces' }, undefined, ns);
    if (!n) throw E.notFound({ group: '', resource: 'namespaces' }, ns);
    if (n.metadata.deletionTimestamp) throw E.namespaceTerminating(def, name, ns);
  }

  // Defaults the real server (or its admission plugins) fills in on create.
  private defaultCreate(def: ResourceDef, o: KObj): void {
    const spec = (isObj(o.spec) ? o.spec : undefined) as Obj | undefined;
    switch (`${def.group}/${def.resource}`) {
      case '/namespaces':
        o.metadata.labels = { ...((o.metadata.labels as Obj) ?? {}), 'kubernetes.io/metadata.name': o.metadata.name };
        o.spec = { finalizers: ['kubernetes'] };
        o.status = { phase: 'Active' };
        break;
      case '/pods':
        o.status = { phase: 'Pending', qosClass: 'BestEffort' };
        break;
      case '/services':
        this.defaultService(o, undefined);
        break;
      case '/secrets':
        if (!o.type) o.type = 'Opaque';
        if (isObj(o.stringData)) {
          const data = { ...((o.data as Obj) ?? {}) };
          for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
          o.data = data;
          delete o.stringData;
        }
        break;
    }
    if (spec && ['apps/deployments', 'apps/statefulsets', 'apps/replicasets'].includes(`${def.group}/${def.resource}`) && spec.replicas === undefined) spec.replicas = 1;
    applyDefaults(def, o);
  }

  private defaultService(o: KObj, cur: KObj | undefined): void {
    const spec = (isObj(o.spec) ? o.spec : (o.spec = {})) as Obj;
    spec.type ??= 'ClusterIP';
    if (spec.type !== 'ExternalName') {
      const prev = cur && isObj(cur.spec) ? (cur.spec.clusterIP as string | undefined) : undefined;
      if (!spec.clusterIP) spec.clusterIP = prev ?? `10.96.${Math.floor(this.nextServiceIp / 250)}.${(this.nextServiceIp++ % 250) + 1}`;
      spec.clusterIPs = [spec.clusterIP];
    }
    spec.sessionAffinity ??= 'None';
    if (spec.type !== 'ExternalName' && spec.clusterIP !== 'None') {
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
      spec.internalTrafficPolicy ??= 'Cluster';
    }
    if (Array.isArray(spec.ports)) {
      const prevPorts = cur && isObj(cur.spec) && Array.isArray(cur.spec.ports) ? (cur.spec.ports as Obj[]) : [];
      const wantsNodePort = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
      spec.ports = spec.ports.map((p) => {
        if (!isObj(p)) return p;
        const out: Obj = { protocol: 'TCP', ...p, targetPort: p.targetPort ?? p.port };
        // NodePort/LoadBalancer ports get a node port from 30000-32767, kept across updates.
        if (wantsNodePort && out.nodePort === undefined) out.nodePort = prevPorts.find((x) => x.port === p.port)?.nodePort ?? 30000 + (this.nextNodePort++ % 2768);
        if (!wantsNodePort) delete out.nodePort;
        return out;
      });
    }
    if (spec.type === 'LoadBalancer' && !isObj(o.status)) o.status = { loadBalancer: {} };
  }

  private defaultServiceAccount(ns: string): void {
    const sa = { group: '', resource: 'serviceaccounts' };
    if (this.store.get(sa, ns, 'default')) return;
    this.store.put(sa, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns, uid: randomUUID(), creationTimestamp: now() } });
  }

  // A CRD is validated, marked Established and its kinds served.
  private registerCrd(def: ResourceDef, o: KObj, dryRun = false): void {
    if (def.resource !== 'customresourcedefinitions') return;
    const d = defFromCrd(o as Parameters<typeof defFromCrd>[0]);
    if (typeof d === 'string') throw E.invalid(def.kind, def.group, o.metadata.name, [{ reason: 'FieldValueRequired', message: `Required value: ${d}`, field: 'spec' }]);
    const expected = `${d.resource}.${d.group}`;
    if (o.metadata.name !== expected) throw E.invalid(def.kind, def.group, o.metadata.name, [{ reason: 'FieldValueInvalid', message: `Invalid value: "${o.metadata.name}": must be spec.names.plural+"."+spec.group`, field: 'metadata.name' }]);
    const t = now();
    const spec = o.spec as { names: Obj };
    o.status = {
      conditions: [
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: t },
        { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: t },
      ],
      acceptedNames: spec.names,
      storedVersions: [d.versions[0]],
    };
    if (!dryRun) this.registry.upsert(d);
  }

  private unregisterCrd(crd: KObj): void {
    const d = defFromCrd(crd as Parameters<typeof defFromCrd>[0]);
    if (typeof d === 'string') return;
    for (const o of this.store.list(d)) this.store.remove(d, o.metadata.namespace, o.metadata.name);
    this.registry.remove(d.group, d.resource);
  }

  /** Store key of a resource (for watch filtering). */
  static key(def: ResourceDef): string {
    return resKey(def);
  }
}

// The scheme defaults the real server fills in on every write (pkg/apis/*/v1/defaults.go), for
// the fields people see in `kubectl get -o yaml` and `describe`.
const setDefault = (o: Obj, k: string, v: unknown) => {
  if (o[k] === undefined) o[k] = v;
};

function defaultPodSpec(spec: unknown): void {
  if (!isObj(spec)) return;
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  for (const list of ['containers', 'initContainers']) {
    const cs = spec[list];
    if (!Array.isArray(cs)) continue;
    for (const c of cs) {
      if (!isObj(c)) continue;
      const image = String(c.image ?? '');
      const tag = image.includes('@') ? 'digest' : (/:([^/:]+)$/.exec(image)?.[1] ?? 'latest');
      setDefault(c, 'imagePullPolicy', tag === 'latest' ? 'Always' : 'IfNotPresent');
      setDefault(c, 'terminationMessagePath', '/dev/termination-log');
      setDefault(c, 'terminationMessagePolicy', 'File');
      setDefault(c, 'resources', {});
      if (Array.isArray(c.ports)) for (const p of c.ports) if (isObj(p)) setDefault(p, 'protocol', 'TCP');
    }
  }
}

function applyDefaults(def: ResourceDef, o: Obj): void {
  const spec = isObj(o.spec) ? o.spec : undefined;
  if (!spec) return;
  const template = isObj(spec.template) ? spec.template : undefined;
  switch (`${def.group}/${def.resource}`) {
    case '/pods':
      defaultPodSpec(spec);
      break;
    case 'apps/deployments':
      setDefault(spec, 'strategy', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'progressDeadlineSeconds', 600);
      defaultPodSpec(template?.spec);
      break;
    case 'apps/statefulsets':
      setDefault(spec, 'podManagementPolicy', 'OrderedReady');
      setDefault(spec, 'updateStrategy', { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
      setDefault(spec, 'revisionHistoryLimit', 10);
      defaultPodSpec(template?.spec);
      break;
    case 'apps/daemonsets':
      setDefault(spec, 'updateStrategy', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
      setDefault(spec, 'revisionHistoryLimit', 10);
      defaultPodSpec(template?.spec);
      break;
    case 'apps/replicasets':
    case 'batch/jobs':
      defaultPodSpec(template?.spec);
      break;
  }
}

// Clients that parse timestamps into Dates send them back with milliseconds ("...:05.000Z");
// the real server stores metav1.Time at second precision, so an unchanged object stays unchanged.
// Only fields named like times are touched (data values that look like times are left alone).
function normalizeTimes(v: unknown): void {
  if (Array.isArray(v)) for (const x of v) normalizeTimes(x);
  else if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'string' && TIME_KEY.test(k) && MILLIS_ZERO.test(x)) v[k] = `${x.slice(0, 19)}Z`;
      else if (k !== 'data' && k !== 'stringData' && k !== 'binaryData') normalizeTimes(x);
    }
  }
}
const TIME_KEY = /^time$|Time$|Timestamp$|At$/;
const MILLIS_ZERO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/;

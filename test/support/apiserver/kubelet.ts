// Plays kubelet and the controllers a cluster runs, so workloads behave like on a real cluster:
// Deployments get ReplicaSets, ReplicaSets/StatefulSets/DaemonSets get Pods from their template
// (labels, ownerReferences, IPs from 10.244.0.0/16 — data only, never contacted), Pods get
// scheduled and become Running/Ready, workloads get status (ready/updated/available replicas,
// observedGeneration, conditions), and Services get Endpoints and EndpointSlices by selector.
import { createHash, randomBytes } from 'node:crypto';
import { clone, deepEqual, isObj } from './patch.ts';
import type { ResourceDef } from './resources.ts';
import { labelSelector, selectorMatches } from './selectors.ts';
import type { ApiServer } from './server.ts';
import type { KObj } from './store.ts';

type Obj = Record<string, unknown>;

/** Options of `startKubelet`. */
export interface KubeletOptions {
  /** Node names pods are scheduled on (default ["node-1"]); DaemonSets get one pod per node. */
  nodes?: string[];
  /** Pods this returns false for run but never become Ready (rollout-timeout tests). Default: all ready. */
  isReady?: (pod: KObj) => boolean;
  /** Shorthand for isReady: pods matching this label selector never become Ready. */
  notReadySelector?: string;
}

/** A running kubelet/controller stand-in. */
export interface Kubelet {
  /** Resolves once every pending change has been reconciled. */
  idle(): Promise<void>;
  /** Change which pods are ready (reconciles again). */
  setReady(isReady: (pod: KObj) => boolean): void;
  stop(): void;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const hash = (v: unknown, n = 10) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, n);
const get = (o: unknown, path: string): unknown => path.split('.').reduce<unknown>((v, k) => (isObj(v) ? v[k] : undefined), o);
const ownerRef = (def: ResourceDef, o: KObj) => ({ apiVersion: def.group ? `${def.group}/${def.versions[0]}` : def.versions[0], kind: def.kind, name: o.metadata.name, uid: o.metadata.uid, controller: true, blockOwnerDeletion: true });
const ownedBy = (o: KObj, owner: KObj) => Array.isArray(o.metadata.ownerReferences) && o.metadata.ownerReferences.some((r) => isObj(r) && r.uid === owner.metadata.uid && r.controller === true);

/** Start reconciling the server's objects; returns controls. Writes go through the API, so watches see them. */
export function startKubelet(server: ApiServer, opts: KubeletOptions = {}): Kubelet {
  const api = server.api;
  const nodes = opts.nodes ?? ['node-1'];
  const notReady = labelSelector(opts.notReadySelector);
  let isReady = opts.isReady ?? ((p: KObj) => !opts.notReadySelector || !notReady(p));
  let nextIp = 1;
  let scheduled: NodeJS.Immediate | undefined;
  let waiters: (() => void)[] = [];
  let stopped = false;
  const def = (group: string, kind: string) => server.resource(group, kind);

  const schedule = () => {
    if (!scheduled && !stopped) scheduled = setImmediate(pass);
  };
  function pass(): void {
    scheduled = undefined;
    let changed = false;
    for (let i = 0; i < 20; i++) {
      const before = server.store.resourceVersion;
      reconcile();
      if (server.store.resourceVersion === before) break;
      changed = true;
    }
    const inFlight = [...pending.values()].some((n) => n > 0);
    if (!inFlight && (!changed || !scheduled)) {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    }
  }

  const write = (d: ResourceDef, o: KObj, manager: string) => {
    const cur = server.store.get(d, o.metadata.namespace, o.metadata.name);
    if (!cur) return api.create(d, o.metadata.namespace, o, { manager });
    return api.update(d, o.metadata.namespace, o.metadata.name, { ...o, metadata: { ...o.metadata, resourceVersion: undefined } }, { manager });
  };
  const writeStatus = (d: ResourceDef, o: KObj, raw: Obj) => {
    const status = JSON.parse(JSON.stringify(raw)) as Obj;
    if (deepEqual(o.status ?? {}, status)) return;
    api.update(d, o.metadata.namespace, o.metadata.name, { ...o, status }, { manager: 'kube-controller-manager' }, 'status');
  };
  // Keep condition timestamps stable when nothing but the time would change.
  const conditions = (old: unknown, next: { type: string; status: string; reason: string; message: string }[]) =>
    next.map((c) => {
      const prev = Array.isArray(old) ? (old as Obj[]).find((o) => o.type === c.type) : undefined;
      const t = prev && prev.status === c.status ? String(prev.lastTransitionTime) : now();
      return { ...c, lastTransitionTime: t, lastUpdateTime: prev && prev.status === c.status && prev.reason === c.reason ? String(prev.lastUpdateTime ?? t) : t };
    });

  const podReady = (p: KObj) => get(p, 'status.phase') === 'Running' && ((get(p, 'status.conditions') as Obj[] | undefined) ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

  // In-flight pod creations per owner (they go through admission webhooks, which are async),
  // and owners whose last creation failed (retried after a pause, like the controllers' backoff).
  const pending = new Map<string, number>();
  const backoff = new Map<string, number>();
  const busy = (owner: KObj) => (pending.get(String(owner.metadata.uid)) ?? 0) > 0 || (backoff.get(String(owner.metadata.uid)) ?? 0) > Date.now();

  function makePod(owner: KObj, ownerDef: ResourceDef, name: string, extraLabels: Record<string, string>, node?: string): void {
    const tpl = (get(owner, 'spec.template') ?? {}) as Obj;
    const tmeta = (isObj(tpl.metadata) ? tpl.metadata : {}) as Obj;
    const spec = clone((isObj(tpl.spec) ? tpl.spec : {}) as Obj);
    if (node) spec.nodeName = node;
    const uid = String(owner.metadata.uid);
    pending.set(uid, (pending.get(uid) ?? 0) + 1);
    const body = { metadata: { name, labels: { ...((tmeta.labels as Obj) ?? {}), ...extraLabels }, annotations: (tmeta.annotations as Obj) ?? undefined, ownerReferences: [ownerRef(ownerDef, owner)] }, spec };
    server
      .createAdmitted(def('', 'Pod'), owner.metadata.namespace, body, 'kube-controller-manager')
      .catch((err: Error) => {
        backoff.set(uid, Date.now() + 200);
        setTimeout(schedule, 210).unref();
        failedCreate(owner, ownerDef, err);
      })
      .finally(() => {
        pending.set(uid, (pending.get(uid) ?? 1) - 1);
        schedule();
      });
  }

  // The Warning event the ReplicaSet controller records when it cannot create a pod.
  function failedCreate(owner: KObj, ownerDef: ResourceDef, err: Error): void {
    if (stopped) return;
    try {
      api.create(def('', 'Event'), owner.metadata.namespace, {
        metadata: { generateName: `${owner.metadata.name}.` },
        involvedObject: { apiVersion: ownerRef(ownerDef, owner).apiVersion, kind: ownerDef.kind, name: owner.metadata.name, namespace: owner.metadata.namespace, uid: owner.metadata.uid },
        reason: 'FailedCreate', type: 'Warning', message: `Error creating: ${err.message}`, source: { component: 'replicaset-controller' },
        firstTimestamp: now(), lastTimestamp: now(), count: 1,
      }, { manager: 'kube-controller-manager' });
    } catch {
      // the namespace may be going away
    }
  }

  function syncPods(owner: KObj, ownerDef: ResourceDef, replicas: number, labels: Record<string, string>, nameOf: (i: number) => string, current: (p: KObj) => boolean): KObj[] {
    const pods = server.store.list(def('', 'Pod'), owner.metadata.namespace).filter((p) => ownedBy(p, owner) && !p.metadata.deletionTimestamp);
    for (const p of pods.filter((p) => !current(p))) api.delete(def('', 'Pod'), p.metadata.namespace, p.metadata.name);
    const keep = pods.filter(current);
    for (const p of keep.slice(replicas)) api.delete(def('', 'Pod'), p.metadata.namespace, p.metadata.name);
    if (!busy(owner)) for (let i = keep.length; i < replicas; i++) makePod(owner, ownerDef, nameOf(i), labels, nodes[i % nodes.length]);
    return server.store.list(def('', 'Pod'), owner.metadata.namespace).filter((p) => ownedBy(p, owner));
  }

  function reconcile(): void {
    const dDeploy = def('apps', 'Deployment');
    const dRs = def('apps', 'ReplicaSet');
    const dSts = def('apps', 'StatefulSet');
    const dDs = def('apps', 'DaemonSet');
    const dPod = def('', 'Pod');

    for (const d of server.store.list(dDeploy)) {
      if (d.metadata.deletionTimestamp) continue;
      const tpl = get(d, 'spec.template');
      const h = hash(tpl);
      const replicas = Number(get(d, 'spec.replicas') ?? 1);
      const rsName = `${d.metadata.name}-${h}`;
      const owned = server.store.list(dRs, d.metadata.namespace).filter((r) => ownedBy(r, d));
      let rs = owned.find((r) => r.metadata.name === rsName);
      const tplWithHash = clone(tpl) as Obj;
      const tm = ((tplWithHash.metadata ??= {}) as Obj);
      tm.labels = { ...((tm.labels as Obj) ?? {}), 'pod-template-hash': h };
      const sel = clone((get(d, 'spec.selector') ?? {}) as Obj);
      sel.matchLabels = { ...((sel.matchLabels as Obj) ?? {}), 'pod-template-hash': h };
      const wantRs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: rsName, namespace: d.metadata.namespace, labels: { ...(tm.labels as Obj) }, ownerReferences: [ownerRef(dDeploy, d)] }, spec: { replicas, selector: sel, template: tplWithHash } } as unknown as KObj;
      if (!rs || get(rs, 'spec.replicas') !== replicas) rs = write(dRs, rs ? { ...rs, spec: { ...(rs.spec as Obj), replicas } } : wantRs, 'kube-controller-manager');
      for (const old of owned.filter((r) => r.metadata.name !== rsName && get(r, 'spec.replicas') !== 0)) write(dRs, { ...old, spec: { ...(old.spec as Obj), replicas: 0 } } as KObj, 'kube-controller-manager');
      const pods = server.store.list(dPod, d.metadata.namespace).filter((p) => owned.some((r) => ownedBy(p, r)) || ownedBy(p, rs!));
      const updated = pods.filter((p) => ownedBy(p, rs!));
      const ready = pods.filter(podReady).length;
      const updatedReady = updated.filter(podReady).length;
      const complete = updatedReady >= replicas && pods.length === updated.length;
      writeStatus(dDeploy, d, {
        observedGeneration: d.metadata.generation,
        replicas: pods.length,
        updatedReplicas: updated.length,
        readyReplicas: ready || undefined,
        availableReplicas: ready || undefined,
        unavailableReplicas: Math.max(replicas - ready, 0) || undefined,
        conditions: conditions(get(d, 'status.conditions'), [
          ready >= replicas ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' } : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
          complete ? { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` } : { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` },
        ]),
      });
    }

    for (const rs of server.store.list(dRs)) {
      if (rs.metadata.deletionTimestamp) continue;
      const replicas = Number(get(rs, 'spec.replicas') ?? 1);
      const tplLabels = (get(rs, 'spec.template.metadata.labels') ?? {}) as Record<string, string>;
      const pods = syncPods(rs, dRs, replicas, {}, () => `${rs.metadata.name}-${randomBytes(3).toString('hex').slice(0, 5)}`, (p) => Object.entries(tplLabels).every(([k, v]) => (p.metadata.labels as Obj | undefined)?.[k] === v));
      const ready = pods.filter(podReady).length;
      writeStatus(dRs, rs, { replicas: pods.length, fullyLabeledReplicas: pods.length, readyReplicas: ready || undefined, availableReplicas: ready || undefined, observedGeneration: rs.metadata.generation });
    }

    for (const s of server.store.list(dSts)) {
      if (s.metadata.deletionTimestamp) continue;
      const replicas = Number(get(s, 'spec.replicas') ?? 1);
      const rev = `${s.metadata.name}-${hash(get(s, 'spec.template'))}`;
      const pods = syncPods(s, dSts, replicas, { 'controller-revision-hash': rev }, (i) => `${s.metadata.name}-${i}`, (p) => (p.metadata.labels as Obj | undefined)?.['controller-revision-hash'] === rev);
      const ready = pods.filter(podReady).length;
      writeStatus(dSts, s, { observedGeneration: s.metadata.generation, replicas: pods.length, readyReplicas: ready || undefined, currentReplicas: pods.length, updatedReplicas: pods.length, availableReplicas: ready || undefined, currentRevision: rev, updateRevision: rev, collisionCount: 0 });
    }

    for (const ds of server.store.list(dDs)) {
      if (ds.metadata.deletionTimestamp) continue;
      const h = hash(get(ds, 'spec.template'));
      const pods = server.store.list(dPod, ds.metadata.namespace).filter((p) => ownedBy(p, ds));
      for (const p of pods) if ((p.metadata.labels as Obj | undefined)?.['controller-revision-hash'] !== h || !nodes.includes(String(get(p, 'spec.nodeName')))) api.delete(dPod, p.metadata.namespace, p.metadata.name);
      for (const n of busy(ds) ? [] : nodes) {
        if (!server.store.list(dPod, ds.metadata.namespace).some((p) => ownedBy(p, ds) && get(p, 'spec.nodeName') === n)) makePod(ds, dDs, `${ds.metadata.name}-${randomBytes(3).toString('hex').slice(0, 5)}`, { 'controller-revision-hash': h }, n);
      }
      const now2 = server.store.list(dPod, ds.metadata.namespace).filter((p) => ownedBy(p, ds));
      const ready = now2.filter(podReady).length;
      writeStatus(dDs, ds, { observedGeneration: ds.metadata.generation, desiredNumberScheduled: nodes.length, currentNumberScheduled: now2.length, updatedNumberScheduled: now2.length, numberReady: ready, numberAvailable: ready || undefined, numberUnavailable: nodes.length - ready || undefined, numberMisscheduled: 0 });
    }

    // Kubelet: schedule and run pods.
    for (const p of server.store.list(dPod)) {
      if (p.metadata.deletionTimestamp) continue;
      let pod = p;
      if (!get(pod, 'spec.nodeName')) pod = api.update(dPod, pod.metadata.namespace, pod.metadata.name, { ...pod, spec: { ...(pod.spec as Obj), nodeName: nodes[0] }, metadata: { ...pod.metadata, resourceVersion: undefined } }, { manager: 'kube-scheduler' });
      const ready = isReady(pod);
      const status = (isObj(pod.status) ? pod.status : {}) as Obj;
      const containers = ((get(pod, 'spec.containers') as Obj[] | undefined) ?? []).map((c) => ({
        name: c.name, image: c.image, imageID: `docker.io/library/${String(c.image)}@sha256:${hash(c.image, 64)}`, containerID: `containerd://${hash([pod.metadata.uid, c.name], 64)}`,
        ready, started: true, restartCount: 0, state: { running: { startedAt: status.startTime ?? now() } },
      }));
      const t = String(status.startTime ?? now());
      const want: Obj = {
        phase: 'Running',
        qosClass: status.qosClass ?? 'BestEffort',
        hostIP: '10.0.0.1',
        hostIPs: [{ ip: '10.0.0.1' }],
        podIP: status.podIP ?? `10.244.${Math.floor(nextIp / 250)}.${(nextIp % 250) + 1}`,
        startTime: t,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
          { type: 'Initialized', status: 'True', lastTransitionTime: t },
          { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: t, ...(ready ? {} : { reason: 'ContainersNotReady' }) },
          { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: t, ...(ready ? {} : { reason: 'ContainersNotReady' }) },
        ],
        containerStatuses: containers,
      };
      if (!status.podIP) nextIp++;
      want.podIPs = [{ ip: want.podIP }];
      writeStatus(dPod, pod, want);
    }

    // Endpoints controller and EndpointSlice controller.
    const dEp = def('', 'Endpoints');
    const dSlice = def('discovery.k8s.io', 'EndpointSlice');
    for (const svc of server.store.list(def('', 'Service'))) {
      const selector = get(svc, 'spec.selector') as Record<string, string> | undefined;
      if (!selector || Object.keys(selector).length === 0) continue;
      const ns = svc.metadata.namespace;
      const pods = server.store.list(dPod, ns).filter((p) => selectorMatches({ matchLabels: selector }, p.metadata.labels as Record<string, string>) && get(p, 'status.podIP') && !p.metadata.deletionTimestamp);
      const svcPorts = ((get(svc, 'spec.ports') as Obj[] | undefined) ?? []);
      const portFor = (sp: Obj, p: KObj): number | undefined => {
        const tp = sp.targetPort ?? sp.port;
        if (typeof tp === 'number') return tp;
        for (const c of (get(p, 'spec.containers') as Obj[] | undefined) ?? []) for (const cp of (c.ports as Obj[] | undefined) ?? []) if (cp.name === tp) return Number(cp.containerPort);
        return undefined;
      };
      const first = pods[0];
      const ports = svcPorts.map((sp) => ({ ...(sp.name ? { name: sp.name } : {}), port: first ? portFor(sp, first) ?? Number(sp.port) : Number(typeof sp.targetPort === 'number' ? sp.targetPort : sp.port), protocol: sp.protocol ?? 'TCP' }));
      const addr = (p: KObj) => ({ ip: get(p, 'status.podIP'), nodeName: get(p, 'spec.nodeName'), targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid } });
      const readyPods = pods.filter(podReady);
      const notReadyPods = pods.filter((p) => !podReady(p));
      const subsets = pods.length ? [{ ...(readyPods.length ? { addresses: readyPods.map(addr) } : {}), ...(notReadyPods.length ? { notReadyAddresses: notReadyPods.map(addr) } : {}), ports }] : undefined;
      const ep = server.store.get(dEp, ns, svc.metadata.name);
      const epObj = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: svc.metadata.name, namespace: ns, labels: (svc.metadata.labels as Obj) ?? undefined }, ...(subsets ? { subsets } : {}) } as unknown as KObj;
      if (!ep || !deepEqual(ep.subsets, epObj.subsets)) write(dEp, ep ? { ...ep, subsets } as KObj : epObj, 'endpoint-controller');

      const sliceName = `${svc.metadata.name}-${hash(svc.metadata.uid, 5)}`;
      const slice = server.store.get(dSlice, ns, sliceName);
      const endpoints = pods.map((p) => ({ addresses: [get(p, 'status.podIP')], conditions: { ready: podReady(p), serving: podReady(p), terminating: false }, nodeName: get(p, 'spec.nodeName'), targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid } }));
      const want = {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { name: sliceName, namespace: ns, generateName: `${svc.metadata.name}-`, labels: { 'kubernetes.io/service-name': svc.metadata.name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' }, ownerReferences: [ownerRef(def('', 'Service'), svc)] },
        addressType: 'IPv4', endpoints, ports,
      } as unknown as KObj;
      if (!slice || !deepEqual(slice.endpoints, endpoints) || !deepEqual(slice.ports, ports)) write(dSlice, slice ? ({ ...slice, endpoints, ports } as KObj) : want, 'endpointslice-controller');
    }
  }

  // Nodes exist and are Ready.
  const dNode = def('', 'Node');
  for (const n of nodes) {
    if (!server.store.get(dNode, undefined, n)) {
      const node = api.create(dNode, undefined, { metadata: { name: n, labels: { 'kubernetes.io/hostname': n, 'kubernetes.io/os': 'linux' } } }, { manager: 'kubelet' });
      api.update(dNode, undefined, n, { ...node, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }], addresses: [{ type: 'InternalIP', address: '10.0.0.1' }], nodeInfo: { kubeletVersion: 'v1.32.0' } } }, { manager: 'kubelet' }, 'status');
    }
  }

  const unsubscribe = server.store.subscribe(() => schedule());
  schedule();
  return {
    idle: () => new Promise<void>((resolve) => {
      if (!scheduled && ![...pending.values()].some((n) => n > 0)) resolve();
      else waiters.push(resolve);
    }),
    setReady(f) {
      isReady = f;
      schedule();
    },
    stop() {
      stopped = true;
      unsubscribe();
      if (scheduled) clearImmediate(scheduled);
      for (const f of waiters) f();
      waiters = [];
    },
  };
}

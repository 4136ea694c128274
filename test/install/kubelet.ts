import type { ApiServer } from '../support/kube.ts';

/**
 * A minimal Deployment controller + kubelet for the test API server (until test/support has one):
 * when a Deployment's spec changes it replaces the Deployment's pods and writes its status. With
 * `ready: false` the pods stay Pending with an image pull back-off and a Warning event, so a
 * rollout never completes. Returns a function that stops it.
 */
export function fakeKubelet(server: ApiServer, opts: { ready: boolean }): () => void {
  const deployments = server.resource('apps', 'Deployment');
  const pods = server.resource('', 'Pod');
  const events = server.resource('', 'Event');
  let busy = false;
  const pending = new Set<string>();
  const sync = () => {
    busy = false;
    for (const key of [...pending]) {
      pending.delete(key);
      const [ns, name] = key.split('/') as [string, string];
      const d = server.store.get(deployments, ns, name) as any;
      if (!d) continue;
      const replicas = d.spec.replicas ?? 1;
      const labels = d.spec.template.metadata.labels;
      for (const p of server.store.list(pods, ns) as any[]) {
        if (p.metadata.labels?.['app.kubernetes.io/name'] === labels['app.kubernetes.io/name']) server.api.delete(pods, ns, p.metadata.name);
      }
      for (let i = 0; i < replicas; i++) {
        const podName = `${name}-g${d.metadata.generation}-${i}`;
        const created = server.api.create(pods, ns, { apiVersion: 'v1', kind: 'Pod', metadata: { name: podName, namespace: ns, labels }, spec: d.spec.template.spec }, { manager: 'kubelet' });
        const container = d.spec.template.spec.containers[0];
        const status = opts.ready
          ? { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: container.name, ready: true, state: { running: {} } }] }
          : {
              phase: 'Pending',
              conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${container.name}]` }],
              containerStatuses: [{ name: container.name, ready: false, state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${container.image}"` } } }],
            };
        server.api.update(pods, ns, podName, { ...created, status }, { manager: 'kubelet' }, 'status');
        if (!opts.ready) {
          server.api.create(events, ns, { apiVersion: 'v1', kind: 'Event', metadata: { name: `${podName}.1`, namespace: ns }, involvedObject: { kind: 'Pod', name: podName, namespace: ns }, type: 'Warning', reason: 'Failed', message: `Failed to pull image "${container.image}": not found` }, { manager: 'kubelet' });
        }
      }
      const ready = opts.ready ? replicas : 0;
      server.api.update(deployments, ns, name, { ...d, status: { observedGeneration: d.metadata.generation, replicas, updatedReplicas: replicas, readyReplicas: ready, availableReplicas: ready } }, { manager: 'kube-controller-manager' }, 'status');
    }
  };
  const seen = new Map<string, number>();
  return server.store.subscribe((e) => {
    if (e.res !== 'apps/deployments' || e.type === 'DELETED') return;
    const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
    const gen = Number(e.object.metadata.generation ?? 0);
    if (seen.get(key) === gen) return;
    seen.set(key, gen);
    pending.add(key);
    // Not inside the store's callback: the write that triggered it is still in progress.
    if (!busy) {
      busy = true;
      setImmediate(sync);
    }
  });
}

/** Checks of the dns category: cluster DNS is up (pre and post), meshed Services resolve from inside the cluster (post). */
import { LABEL_INJECT } from '../../constants.js';
import type { KubeObject } from '../../cluster/types.js';
import { lookupFromCluster } from '../dns-pod.js';
import { readyAddresses } from '../k8s.js';
import { type C, fail, type Obj, pass, skip, warn } from './shared.js';
import { isObject } from '../../util/object.js';

/** dns.cluster-dns: cluster DNS (kube-dns/CoreDNS) has ready endpoints. */
export const clusterDns: C = {
  id: 'dns.cluster-dns',
  category: 'dns',
  description: 'cluster DNS (kube-dns/CoreDNS) has ready endpoints',
  severity: 'error',
  hintAnchor: 'dns-cluster-dns',
  async run(ctx) {
    let svc: KubeObject | undefined;
    for (const name of ['kube-dns', 'coredns']) {
      svc = await ctx.get('v1', 'Service', name, 'kube-system');
      if (svc) break;
    }
    if (!svc) return fail('no kube-dns or coredns Service in kube-system', 'the mesh resolves services through cluster DNS; install CoreDNS');
    const slices = await ctx.list('discovery.k8s.io/v1', 'EndpointSlice', { namespace: 'kube-system', labelSelector: `kubernetes.io/service-name=${svc.metadata.name}` });
    const ready = readyAddresses(slices);
    if (ready.length === 0) return fail(`Service kube-system/${svc.metadata.name} has no ready endpoints`, 'check the CoreDNS pods: kubectl -n kube-system get pods -l k8s-app=kube-dns');
    return pass(`kube-system/${svc.metadata.name} has ${ready.length} ready endpoint(s)`);
  },
};

// DNS lookup from inside the cluster

/** Parse `nslookup` output produced by the lookup pod: `== HOST` headers, then Name/Address lines. */
export function parseLookups(log: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let host: string | undefined;
  let answered = false;
  for (const raw of log.split('\n')) {
    const line = raw.trim();
    const h = /^== (\S+)$/.exec(line);
    if (h) {
      host = h[1]!;
      answered = false;
      out.set(host, []);
      continue;
    }
    if (!host) continue;
    if (/^Name:/i.test(line)) answered = true;
    const a = /^Address(?: \d+)?:\s*([0-9a-f.:]+?)(?:#\d+)?$/i.exec(line);
    if (a && answered) out.get(host)!.push(a[1]!);
  }
  return out;
}

/** dns.service-resolution: meshed Services resolve to their ClusterIP inside the cluster. */
export const serviceDns: C = {
  id: 'dns.service-resolution',
  category: 'dns',
  description: 'meshed Services resolve to their ClusterIP inside the cluster',
  severity: 'warning',
  hintAnchor: 'dns-service-resolution',
  async run(ctx, signal) {
    const namespaces = (await ctx.list('v1', 'Namespace')).filter((n) => n.metadata.labels?.[LABEL_INJECT] === 'enabled').map((n) => n.metadata.name);
    const services = (await Promise.all(namespaces.map((ns) => ctx.list('v1', 'Service', { namespace: ns }))))
      .flat()
      .filter((s) => isObject(s.spec) && typeof s.spec.clusterIP === 'string' && s.spec.clusterIP !== 'None' && s.spec.clusterIP !== '')
      .slice(0, 50);
    if (services.length === 0) return pass('no meshed Services with a ClusterIP to resolve');
    // Read-only by default: the lookup needs a pod, so it runs only when asked.
    if (!ctx.dnsProbe) return skip(`not probed: resolving ${services.length} Service name(s) from inside the cluster runs a short-lived pod in ${ctx.namespace}`, 'pass --dns-probe to run the lookup pod (it is deleted afterwards)');
    const can = await ctx.canI({ verb: 'create', group: '', resource: 'pods', namespace: ctx.namespace });
    const logs = await ctx.canI({ verb: 'get', group: '', resource: 'pods/log', namespace: ctx.namespace });
    if (!can.allowed || !logs.allowed) {
      return skip(`not allowed to ${!can.allowed ? 'create pods' : 'read pod logs'} in ${ctx.namespace}, so no in-cluster lookup was made`, `grant "create pods" and "get pods/log" in ${ctx.namespace} to run this check`);
    }
    const hosts = services.map((s) => `${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local`);
    const lookup = await lookupFromCluster(ctx, hosts, signal);
    if ('unfinished' in lookup) {
      const { name, phase } = lookup.unfinished;
      return skip(`the lookup pod ${ctx.namespace}/${name} did not finish in ${Math.round(ctx.dnsPodTimeoutMs / 1000)}s (phase ${phase || 'unknown'})`, `check that image ${ctx.dnsImage} can be pulled, or raise --timeout`);
    }
    const found = parseLookups(lookup.log);
    const bad: string[] = [];
    services.forEach((s, i) => {
      const ip = String((s.spec as Obj).clusterIP);
      const got = found.get(hosts[i]!) ?? [];
      if (!got.includes(ip)) bad.push(`${hosts[i]} ${got.length ? `resolved to ${got.join(', ')}` : 'did not resolve'} (ClusterIP ${ip})`);
    });
    if (bad.length) return warn(`${bad.length}/${services.length} Services do not resolve to their ClusterIP`, 'check CoreDNS and the Services; clients of these names fail before the mesh sees them', bad);
    return pass(`${services.length} Service(s) resolve to their ClusterIP`);
  },
};

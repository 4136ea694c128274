import * as k8s from '@kubernetes/client-node';
import { loadKubeConfig } from './live.js';
import type { ConnectOptions, KubeObject } from './types.js';

/** A kind to watch. `plural` is its resource name in the API path. */
export interface WatchKind {
  apiVersion: string;
  kind: string;
  plural: string;
}

/** A running set of informers. */
export interface Watcher {
  stop(): Promise<void>;
}

function pathOf(k: WatchKind): string {
  return k.apiVersion.includes('/') ? `/apis/${k.apiVersion}/${k.plural}` : `/api/${k.apiVersion}/${k.plural}`;
}

/**
 * List+watch every kind across all namespaces with client-node informers and call `onChange` with
 * the full current set of objects after the initial lists and after every event. A watch that
 * drops (API server gone, 410 Gone, a CRD not installed yet) is reported through `onError` and
 * restarted with backoff (1 s doubling to 30 s); the last delivered set stays valid meanwhile, and
 * the re-list on restart resyncs. Resolves once every kind has been listed or has failed once.
 */
export async function watchObjects(opts: ConnectOptions, kinds: WatchKind[], onChange: (objects: KubeObject[]) => void, onError: (err: Error) => void): Promise<Watcher> {
  const kc = loadKubeConfig(opts);
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const informers: { kind: WatchKind; informer: k8s.Informer<k8s.KubernetesObject> & k8s.ObjectCache<k8s.KubernetesObject> }[] = [];
  let started = false;
  const emit = (): void => {
    if (!started || stopped) return;
    const all: KubeObject[] = [];
    for (const { kind, informer } of informers) {
      for (const o of informer.list()) all.push({ ...(o as unknown as KubeObject), apiVersion: kind.apiVersion, kind: kind.kind });
    }
    onChange(all);
  };
  const firstRuns: Promise<void>[] = [];
  for (const kind of kinds) {
    const listFn = async (): Promise<k8s.KubernetesListObject<k8s.KubernetesObject>> => {
      const res = await api.list(kind.apiVersion, kind.kind);
      return res as unknown as k8s.KubernetesListObject<k8s.KubernetesObject>;
    };
    const informer = k8s.makeInformer(kc, pathOf(kind), listFn);
    informers.push({ kind, informer });
    let backoff = 1000;
    const restart = (err: unknown): void => {
      if (stopped) return;
      const e = err instanceof Error ? err : new Error(typeof err === 'object' && err && 'code' in err ? `HTTP ${String((err as { code: unknown }).code)}` : String(err));
      onError(new Error(`watch ${kind.kind}: ${e.message}; retrying in ${backoff / 1000}s`));
      const t = setTimeout(() => {
        timers.delete(t);
        informer.start().then(() => {
          backoff = 1000;
          emit();
        }, restart);
      }, backoff);
      timers.add(t);
      backoff = Math.min(backoff * 2, 30_000);
    };
    for (const verb of [k8s.ADD, k8s.UPDATE, k8s.DELETE] as const) informer.on(verb, () => emit());
    informer.on(k8s.ERROR, restart);
    firstRuns.push(informer.start().catch(restart));
  }
  await Promise.all(firstRuns);
  started = true;
  emit();
  return {
    async stop(): Promise<void> {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.all(informers.map(({ informer }) => informer.stop().catch(() => undefined)));
    },
  };
}

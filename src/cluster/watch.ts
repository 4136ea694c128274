import * as k8s from '@kubernetes/client-node';
import { loadKubeConfig } from './live.js';
import { listObjectPages } from './paging.js';
import type { SourceChanges, SourceListener } from './source.js';
import type { ConnectOptions, KubeObject } from './types.js';

/** A kind to watch. `plural` is its resource name in the API path. */
export interface WatchKind {
  apiVersion: string;
  kind: string;
  plural: string;
  /** For a kind a CRD defines: how to install it, said once when the API server does not know the kind. */
  missingHint?: string;
  /** Only objects matching this field selector (e.g. `type=kubernetes.io/tls` for Secrets). */
  fieldSelector?: string;
  /** A one-off list (`mesh check`) goes on without this kind when it may not be read (e.g. Secrets). */
  optional?: boolean;
}

/** Timers of the watch's retries; tests pass their own to run retries without waiting. */
export interface RetryTimer {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** Options of watchObjects. */
export interface WatchOptions {
  /** Warnings said once (a kind's CRD is not installed). */
  log?: (line: string) => void;
  timer?: RetryTimer;
  /** First retry delay (default 1 s), doubled after each failed list up to maxBackoffMs (default 30 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

const TIMER: RetryTimer = { set: (fn, ms) => setTimeout(fn, ms), clear: (h) => clearTimeout(h as NodeJS.Timeout) };

/**
 * One line for a client-node error: its first line, with the Status message of an API error's
 * body (client-node's messages carry the body and the response headers on further lines).
 */
export function describeWatchError(err: unknown): { text: string; code?: number } {
  if (!(err instanceof Error)) {
    const code = typeof err === 'object' && err && 'code' in err ? Number((err as { code: unknown }).code) : undefined;
    return code !== undefined && Number.isFinite(code) ? { text: `HTTP ${code}`, code } : { text: String(err) };
  }
  const first = (err.message.split('\n')[0] ?? '').trim();
  const raw = (err as { code?: unknown }).code;
  const code = typeof raw === 'number' ? raw : Number(/HTTP-Code: (\d+)/.exec(err.message)?.[1] ?? NaN);
  const status = /\\?"message\\?":\\?"((?:[^"\\]|\\[^"])*)\\?"/.exec(err.message)?.[1];
  const text = status && !first.includes(status) ? `${first} (${status})` : first;
  return Number.isFinite(code) ? { text, code } : { text };
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
 * the full current set of objects after the initial lists and after every event (with that event's
 * change, SourceChanges, so a watcher need not compare the sets). A watch that
 * drops (API server gone, 410 Gone, a CRD not installed yet) is reported through `onError`, one
 * line per retry, and restarted with backoff: 1 s doubling to 30 s, back to 1 s only once a list
 * succeeds (client-node's start() resolves even when its list failed, so that cannot be the sign).
 * A kind the API server does not know (404) with a `missingHint` is also said once through
 * `opts.log`. The last delivered set stays valid meanwhile, and the re-list on restart resyncs.
 * Resolves once every kind has been listed or has failed once.
 */
export async function watchObjects(opts: ConnectOptions, kinds: WatchKind[], onChange: SourceListener, onError: (err: Error) => void, wopts: WatchOptions = {}): Promise<Watcher> {
  const kc = loadKubeConfig(opts, k8s.KubeConfig);
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  const timer = wopts.timer ?? TIMER;
  const initial = wopts.backoffMs ?? 1000;
  const max = wopts.maxBackoffMs ?? 30_000;
  let stopped = false;
  const timers = new Set<unknown>();
  const informers: { kind: WatchKind; informer: k8s.Informer<k8s.KubernetesObject> & k8s.ObjectCache<k8s.KubernetesObject> }[] = [];
  let started = false;
  /**
   * Per kind, the delivered copy of each informer object by namespace/name (list items lack
   * apiVersion and kind), kept between deliveries: an event copies the one object it carries, and
   * the set is these copies, so its objects are the same from one delivery to the next.
   */
  const copies = new Map<WatchKind, Map<string, KubeObject>>();
  const copy = (kind: WatchKind, o: k8s.KubernetesObject): KubeObject => ({ ...(o as unknown as KubeObject), apiVersion: kind.apiVersion, kind: kind.kind });
  const idOf = (o: k8s.KubernetesObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  const deliver = (changes?: SourceChanges): void => {
    const all: KubeObject[] = [];
    for (const byId of copies.values()) for (const o of byId.values()) all.push(o);
    onChange(all, changes);
  };
  /** Everything again, from the informers' caches (the first delivery, and after a re-list). */
  const emit = (): void => {
    if (!started || stopped) return;
    copies.clear();
    for (const { kind, informer } of informers) copies.set(kind, new Map(informer.list().map((o) => [idOf(o), copy(kind, o)])));
    deliver();
  };
  /** One informer event: the set with this object put or taken out, and that change. */
  const event = (kind: WatchKind, o: k8s.KubernetesObject, deleted: boolean): void => {
    if (!started || stopped) return;
    const byId = copies.get(kind);
    if (!byId) return emit();
    const id = idOf(o);
    const c = (deleted ? byId.get(id) : undefined) ?? copy(kind, o);
    if (deleted) byId.delete(id);
    else byId.set(id, c);
    deliver(deleted ? { set: [], deleted: [c] } : { set: [c], deleted: [] });
  };
  const firstRuns: Promise<void>[] = [];
  for (const kind of kinds) {
    let backoff = initial;
    let missingSaid = false;
    let pending: unknown;
    const listFn = async (): Promise<k8s.KubernetesListObject<k8s.KubernetesObject>> => {
      // In pages (limit/continue), as client-go's informers list: never every object of a kind in one answer.
      const res = await listObjectPages((limit, token) => api.list(kind.apiVersion, kind.kind, undefined, undefined, undefined, undefined, kind.fieldSelector, undefined, limit, token));
      backoff = initial;
      if (missingSaid) wopts.log?.(`watch ${kind.kind}: the kind is served now; watching it`);
      missingSaid = false;
      return res as unknown as k8s.KubernetesListObject<k8s.KubernetesObject>;
    };
    // ListWatch rather than makeInformer: only it passes a field selector on to the watch.
    const informer = new k8s.ListWatch(pathOf(kind), new k8s.Watch(kc), listFn, false, undefined, kind.fieldSelector);
    informers.push({ kind, informer });
    const restart = (err: unknown): void => {
      // client-node may report one failure twice (ERROR callback and a rejected start): one retry.
      if (stopped || pending !== undefined) return;
      const { text, code } = describeWatchError(err);
      if (code === 404 && kind.missingHint && !missingSaid) {
        missingSaid = true;
        wopts.log?.(`warning: watch ${kind.kind}: the API server does not serve ${kind.apiVersion} ${kind.kind} (its CRD is not installed); ${kind.kind} objects are ignored until it is: ${kind.missingHint}`);
      }
      onError(new Error(`watch ${kind.kind}: ${text}; retrying in ${backoff / 1000}s`));
      const t = timer.set(() => {
        timers.delete(t);
        pending = undefined;
        if (stopped) return;
        informer.start().then(() => emit(), restart);
      }, backoff);
      pending = t;
      timers.add(t);
      backoff = Math.min(backoff * 2, max);
    };
    for (const verb of [k8s.ADD, k8s.UPDATE, k8s.DELETE] as const) informer.on(verb, (o) => event(kind, o, verb === k8s.DELETE));
    informer.on(k8s.ERROR, restart);
    firstRuns.push(informer.start().catch(restart));
  }
  await Promise.all(firstRuns);
  started = true;
  emit();
  return {
    async stop(): Promise<void> {
      stopped = true;
      for (const t of timers) timer.clear(t);
      await Promise.all(informers.map(({ informer }) => informer.stop().catch(() => undefined)));
    },
  };
}

import { isList, type SourceDocument } from '../cluster/files.js';
import type { KubeObject } from '../cluster/types.js';
import { inputError, MeshError } from '../errors.js';
import { isObject } from '../util/object.js';
import { injectObject, type InjectReport, type ObjectResult } from './inject.js';
import { SharedParts } from './inject/containers.js';
import { sharedYaml } from '../cluster/yaml.js';
import type { Values } from './values.js';

/**
 * Pure transforms of a document stream for `mesh inject` / `mesh uninject`: one document in, the
 * changed object (or undefined) and its reports out. Reading and writing live in
 * src/commands/inject-run.ts.
 */

/** The labels a Namespace object gives its pods' namespace, by name, or undefined for any other object. */
export function namespaceEntry(obj: KubeObject): [string, Record<string, string>] | undefined {
  return obj.kind === 'Namespace' && obj.metadata?.name ? [obj.metadata.name, obj.metadata.labels ?? {}] : undefined;
}

/**
 * An inject function for a stream of objects in input order: Namespaces seen earlier in the input
 * are remembered in `namespaces`, so their labels can opt their pods out (streaming: only earlier
 * ones count). A caller injecting part of a stream passes the Namespaces of the parts before.
 */
export function streamInjector(values: Values, nativeSidecar: boolean, force = false, namespaces = new Map<string, Record<string, string>>()): (obj: KubeObject) => ObjectResult {
  // The sidecar containers and volumes are the same in most pods: built once each, and toYaml
  // writes each one's text once.
  const parts = new SharedParts(values, sharedYaml);
  return (obj) => {
    const entry = namespaceEntry(obj);
    if (entry) namespaces.set(entry[0], entry[1]);
    const ns = obj.metadata?.namespace;
    return injectObject(obj, values, { nativeSidecar, namespaceLabels: ns ? namespaces.get(ns) : undefined, ...(force ? { force } : {}), parts });
  };
}

/** Counts per action and per skip reason, for the summary and --report json. */
export class InjectSummary {
  total = 0;
  actions: Record<string, number> = {};
  skipped: Record<string, number> = {};
  add(r: InjectReport): void {
    this.total++;
    this.actions[r.action] = (this.actions[r.action] ?? 0) + 1;
    if (r.reason) this.skipped[r.reason] = (this.skipped[r.reason] ?? 0) + 1;
  }
}

/** An item of a List, checked to be an object inject can read (a `null` item is an input error). */
function listItem(x: unknown, i: number): KubeObject {
  const what = `item ${i + 1} of the List`;
  if (!isObject(x)) throw inputError(`${what} is ${x === null ? 'null' : Array.isArray(x) ? 'a list' : JSON.stringify(x)}, not a Kubernetes object`, 'each item of a List must be an object with apiVersion and kind; remove empty items');
  if (typeof x.kind !== 'string' || x.kind === '' || typeof x.apiVersion !== 'string') throw inputError(`${what} has no apiVersion or kind`, 'every Kubernetes object needs apiVersion and kind');
  if (x.metadata !== undefined && !isObject(x.metadata)) throw inputError(`${what}: "metadata" must be a mapping`);
  return x as unknown as KubeObject;
}

/** One document through inject or uninject; a List has each item transformed. Returns the changed object, or undefined when unchanged; reports are appended to `reports`. */
export function transformDoc(doc: SourceDocument, fn: (o: KubeObject) => ObjectResult, reports: InjectReport[]): KubeObject | undefined {
  const o = doc.object!;
  const where = (err: unknown) => {
    if (err instanceof MeshError) return new MeshError(`${doc.source}: document ${doc.index + 1} (line ${doc.line}): ${err.message}`, { hint: err.hint, exitCode: err.exitCode, cause: err.cause });
    return err;
  };
  try {
    if (isList(o)) {
      let changed = false;
      const items = (o.items as unknown[]).map((x, i) => {
        const item = listItem(x, i);
        let r: ObjectResult;
        try {
          r = fn(item);
        } catch (err) {
          if (err instanceof MeshError) throw new MeshError(`item ${i + 1} of the List: ${err.message}`, { hint: err.hint, exitCode: err.exitCode, cause: err.cause });
          throw err;
        }
        reports.push(r.report);
        if (r.object !== item) changed = true;
        return r.object;
      });
      return changed ? { ...o, items } : undefined;
    }
    const r = fn(o);
    reports.push(r.report);
    return r.object !== o ? r.object : undefined;
  } catch (err) {
    throw where(err);
  }
}

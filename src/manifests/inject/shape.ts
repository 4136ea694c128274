import { inputError } from '../../errors.js';
import { isObject as isMap } from '../../util/object.js';
import { PROBE_FIELDS } from './containers.js';
import type { PodTemplate } from './types.js';

/**
 * The shape of everything inject and uninject read in a pod template, checked before either walks
 * it: a `null` container or a string where a list belongs is an input error naming the field
 * (exit 2), never a TypeError from deep inside the transform.
 */

/** How a value looks in an error message: `null`, `a string`, `a list`, ... */
function describe(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'missing';
  if (Array.isArray(x)) return 'a list';
  if (typeof x === 'object') return 'a mapping';
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? x.slice(0, 40) + '...' : x)}`;
  return `the ${typeof x} ${String(x)}`;
}

function bad(path: string, x: unknown, expected: string): never {
  throw inputError(`${path} is ${describe(x)}, expected ${expected}`, 'fix the manifest: see the field in the Kubernetes API reference (kubectl explain)');
}

function stringMap(x: unknown, path: string): void {
  if (x === undefined) return;
  if (!isMap(x)) bad(path, x, 'a mapping of strings');
  for (const k in x) if (typeof x[k] !== 'string') bad(`${path}[${JSON.stringify(k)}]`, x[k], 'a string (quote numbers and booleans)');
}

function named(x: unknown, path: string, what: string): void {
  if (!isMap(x)) bad(path, x, `${what} (a mapping with a name)`);
  if (typeof x.name !== 'string' || x.name === '') bad(`${path}.name`, x.name, 'a non-empty string');
}

function containers(x: unknown, path: string): void {
  if (x === undefined) return;
  if (!Array.isArray(x)) bad(path, x, 'a list of containers');
  x.forEach((c: unknown, i) => {
    const at = `${path}[${i}]`;
    named(c, at, 'a container');
    const ct = c as Record<string, unknown>;
    if (ct.ports !== undefined) {
      if (!Array.isArray(ct.ports)) bad(`${at}.ports`, ct.ports, 'a list of ports');
      ct.ports.forEach((p: unknown, j) => {
        if (!isMap(p)) bad(`${at}.ports[${j}]`, p, 'a port (a mapping with containerPort)');
      });
    }
    for (const [field] of PROBE_FIELDS) {
      const probe = ct[field];
      if (probe === undefined) continue;
      if (!isMap(probe)) bad(`${at}.${field}`, probe, 'a probe (a mapping)');
      if (probe.httpGet === undefined) continue;
      if (!isMap(probe.httpGet)) bad(`${at}.${field}.httpGet`, probe.httpGet, 'a mapping with a port');
      const h = probe.httpGet.httpHeaders;
      if (h !== undefined && (!Array.isArray(h) || h.some((e) => !isMap(e)))) bad(`${at}.${field}.httpGet.httpHeaders`, h, 'a list of {name, value} mappings');
    }
  });
}

/**
 * Throw an input error (exit 2) naming the first field of `template` that inject or uninject would
 * read but that has the wrong type. `at` is where the template sits in its object
 * (e.g. `spec.template`, or '' for a Pod), so the message names the field as the user wrote it.
 */
export function checkPodTemplate(template: PodTemplate, at: string): void {
  const p = (s: string) => (at ? `${at}.${s}` : s);
  const t = template as unknown as Record<string, unknown>;
  if (t.metadata !== undefined) {
    if (!isMap(t.metadata)) bad(p('metadata'), t.metadata, 'a mapping');
    stringMap(t.metadata.annotations, p('metadata.annotations'));
    stringMap(t.metadata.labels, p('metadata.labels'));
  }
  const spec = t.spec as Record<string, unknown>;
  containers(spec.containers, p('spec.containers'));
  containers(spec.initContainers, p('spec.initContainers'));
  if (spec.volumes !== undefined) {
    if (!Array.isArray(spec.volumes)) bad(p('spec.volumes'), spec.volumes, 'a list of volumes');
    spec.volumes.forEach((v: unknown, i) => named(v, p(`spec.volumes[${i}]`), 'a volume'));
  }
}

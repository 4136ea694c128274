import { durationValue, parseGatewayDuration } from '../duration.js';
import { MeshError } from '../errors.js';
import type { KubeObject } from '../cluster/types.js';
import { isObject } from '../util/object.js';
import type { ModelWarning } from './types.js';

/** A JSON object as read from a Kubernetes manifest. */
export type Obj = Record<string, unknown>;

/** The objects of a JSON array (other entries dropped); [] for anything else. */
export function arr(v: unknown): Obj[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}
/** A non-empty string, or undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
/** A finite number, or undefined. */
export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
/** The string-valued entries of an object, or undefined when `v` is not an object. */
export function strMap(v: unknown): Record<string, string> | undefined {
  if (!isObject(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}
/** The model's `NS/NAME` key. */
export function keyOf(ns: string, name: string): string {
  return `${ns}/${name}`;
}
/** Code-point order of two strings (locale-independent, so models are deterministic). */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
/** Order by namespace, then name. */
export function byNsName<T extends { namespace: string; name: string }>(a: T, b: T): number {
  return a.namespace === b.namespace ? cmp(a.name, b.name) : cmp(a.namespace, b.namespace);
}
/** `Kind ns/name` of an object, as warnings name it. */
export function describe(o: KubeObject): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

/** Where a bad value in an object is reported: a model warning, the value then ignored. */
export type Warn = (message: string) => void;

/**
 * A duration field of an annotation or HTTPRoute (`500ms`, `2s`, `1m30s`) in milliseconds, read
 * by src/duration.ts like every flag; undefined when absent. A bad value (a bare number included:
 * its unit would be a guess) is reported through `warn` and ignored, so the default applies.
 * `gateway` also requires the Gateway API subset (GEP-2257) that HTTPRoute timeouts must use.
 */
export function durationField(v: unknown, what: string, warn: Warn, gateway = false): number | undefined {
  try {
    const ms = durationValue(v, what);
    if (ms instanceof MeshError) throw ms;
    return ms !== undefined && gateway ? parseGatewayDuration(v as string, what) : ms;
  } catch (err) {
    if (!(err instanceof MeshError)) throw err;
    warn(`${err.message}; ignored`);
    return undefined;
  }
}

/** Parse a JSON annotation, recording a warning (and returning undefined) when it is not an object. */
export function jsonAnnotation(o: KubeObject, key: string, warnings: ModelWarning[]): Obj | undefined {
  const raw = o.metadata.annotations?.[key];
  if (raw === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    if (isObject(v)) return v;
  } catch {
    // fall through to the warning
  }
  warnings.push({ object: describe(o), message: `annotation ${key} is not a JSON object; ignored` });
  return undefined;
}

import { parseGoDuration } from '../duration.js';
import type { KubeObject } from '../cluster/types.js';
import type { ModelWarning } from './types.js';

/** A JSON object as read from a Kubernetes manifest. */
export type Obj = Record<string, unknown>;

/** Whether `v` is a plain JSON object (not null, not an array). */
export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
/** The objects of a JSON array (other entries dropped); [] for anything else. */
export function arr(v: unknown): Obj[] {
  return Array.isArray(v) ? v.filter(isObj) : [];
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
  if (!isObj(v)) return undefined;
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

/**
 * A Gateway API Duration (`1h`, `30s`, `500ms`, `1m30s`; GEP-2257) in milliseconds, or undefined
 * when it does not parse.
 */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  if (typeof v !== 'string') return undefined;
  const ms = parseGoDuration(v);
  return ms === undefined ? undefined : Math.round(ms);
}

/** Parse a JSON annotation, recording a warning (and returning undefined) when it is not an object. */
export function jsonAnnotation(o: KubeObject, key: string, warnings: ModelWarning[]): Obj | undefined {
  const raw = o.metadata.annotations?.[key];
  if (raw === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    if (isObj(v)) return v;
  } catch {
    // fall through to the warning
  }
  warnings.push({ object: describe(o), message: `annotation ${key} is not a JSON object; ignored` });
  return undefined;
}

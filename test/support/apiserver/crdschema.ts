// What the real server does with a custom resource's openAPIV3Schema on every write: prune
// unknown fields (unless x-kubernetes-preserve-unknown-fields), apply `default`s, then validate,
// answering 422 Invalid with field paths in the apiextensions wording.
import AjvModule from 'ajv';
import { invalid, type StatusCause } from './errors.ts';
import { clone, isObj } from './patch.ts';
import type { ResourceDef } from './resources.ts';

type Obj = Record<string, unknown>;
/** A CRD version's openAPIV3Schema (JSON-Schema-like). */
export type CrdSchema = Obj;

// ajv ships CommonJS; under NodeNext its class is the default export's default.
const Ajv = ((AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule) as unknown as new (o: object) => {
  compile(schema: object): ((data: unknown) => boolean) & { errors?: { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }[] | null };
};
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const compiled = new WeakMap<object, ReturnType<typeof ajv.compile>>();

// metadata, apiVersion and kind are the server's, whatever the schema says.
const ROOT_KEEP = new Set(['apiVersion', 'kind', 'metadata']);

function prune(v: unknown, s: Obj | undefined, root = false): void {
  if (!s || s['x-kubernetes-preserve-unknown-fields'] === true) return;
  if (Array.isArray(v)) {
    for (const x of v) prune(x, isObj(s.items) ? s.items : undefined);
    return;
  }
  if (!isObj(v)) return;
  const props = isObj(s.properties) ? s.properties : undefined;
  const additional = isObj(s.additionalProperties) ? s.additionalProperties : undefined;
  for (const [k, x] of Object.entries(v)) {
    if (root && ROOT_KEEP.has(k)) continue;
    const sub = props?.[k] as Obj | undefined;
    if (sub) prune(x, sub);
    else if (additional) prune(x, additional);
    else if (props || s.additionalProperties === false || s.type === 'object') delete v[k];
  }
}

function applyDefaults(v: unknown, s: Obj | undefined): void {
  if (!s) return;
  if (Array.isArray(v)) {
    for (const x of v) applyDefaults(x, isObj(s.items) ? s.items : undefined);
    return;
  }
  if (!isObj(v)) return;
  const props = isObj(s.properties) ? s.properties : {};
  for (const [k, sub] of Object.entries(props)) {
    if (!isObj(sub)) continue;
    if (v[k] === undefined && sub.default !== undefined) v[k] = clone(sub.default);
    applyDefaults(v[k], sub);
  }
}

function causeOf(e: { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }, obj: unknown): StatusCause {
  const parts = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const value = parts.reduce<unknown>((cur, p) => (isObj(cur) || Array.isArray(cur) ? (cur as Obj)[p] : undefined), obj);
  const path = parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : `${i ? '.' : ''}${p}`)).join('');
  if (e.keyword === 'required') {
    const field = `${path ? `${path}.` : ''}${String(e.params.missingProperty)}`;
    return { reason: 'FieldValueRequired', message: 'Required value', field };
  }
  if (e.keyword === 'enum') {
    const allowed = (e.params.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ');
    return { reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed}`, field: path };
  }
  if (e.keyword === 'type') {
    return { reason: 'FieldValueTypeInvalid', message: `Invalid value: "${typeof value === 'object' ? (Array.isArray(value) ? 'array' : 'object') : typeof value}": ${path} in body must be of type ${String(e.params.type)}: "${typeof value === 'object' ? (Array.isArray(value) ? 'array' : 'object') : typeof value}"`, field: path };
  }
  return { reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${path} in body ${e.message ?? 'is invalid'}`, field: path };
}

/** Prune, default and validate a custom resource in place; throws 422 Invalid on schema errors. */
export function admitCustomResource(def: ResourceDef, version: string, obj: Obj): void {
  const schema = def.schemas?.[version] ?? def.schemas?.[def.versions[0]!];
  if (!schema) return;
  prune(obj, schema, true);
  applyDefaults(obj, schema);
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  // The server validates metadata itself; the schema only sees the rest.
  const { metadata: _m, ...rest } = obj;
  if (validate(rest)) return;
  const causes = (validate.errors ?? []).map((e) => causeOf(e, rest));
  const meta = (obj.metadata ?? {}) as Obj;
  throw invalid(def.kind, def.group, String(meta.name ?? ''), causes);
}

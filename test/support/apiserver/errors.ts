// Kubernetes `Status` failures with the real reasons, codes and message formats
// (k8s.io/apimachinery/pkg/api/errors), thrown inside the server and written by its HTTP layer.
import { qualifiedResource, type ResourceDef } from './resources.ts';

/** A metav1.StatusCause. */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** A metav1.Status object (failure or success). */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

/** An error carrying the Status the server answers with. */
export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
  get code(): number {
    return this.status.code;
  }
}

type Res = Pick<ResourceDef, 'group' | 'resource'>;

function fail(code: number, reason: string, message: string, details?: Status['details']): ApiError {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) s.details = details;
  return new ApiError(s);
}

function detailsOf(def: Res, name?: string): NonNullable<Status['details']> {
  const d: NonNullable<Status['details']> = {};
  if (name !== undefined) d.name = name;
  if (def.group) d.group = def.group;
  d.kind = def.resource;
  return d;
}

/** 404 `pods "x" not found`. */
export const notFound = (def: Res, name: string): ApiError => fail(404, 'NotFound', `${qualifiedResource(def)} "${name}" not found`, detailsOf(def, name));

/** 404 for a path the server does not serve. */
export const pathNotFound = (): ApiError => fail(404, 'NotFound', 'the server could not find the requested resource', {});

/** 409 `pods "x" already exists`. */
export const alreadyExists = (def: Res, name: string): ApiError => fail(409, 'AlreadyExists', `${qualifiedResource(def)} "${name}" already exists`, detailsOf(def, name));

/** 409 on a stale resourceVersion. */
export const conflict = (def: Res, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError =>
  fail(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(def)} "${name}": ${why}`, detailsOf(def, name));

/** 422 `Pod "x" is invalid: field: message` with one cause per field error. */
export function invalid(kind: string, group: string, name: string, causes: StatusCause[]): ApiError {
  const list = causes.map((c) => `${c.field}: ${c.message}`);
  const msg = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  const details: NonNullable<Status['details']> = { name };
  if (group) details.group = group;
  details.kind = kind;
  details.causes = causes;
  return fail(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${msg}`, details);
}

/** 403 in the RBAC authorizer's words. */
export function forbidden(user: string, verb: string, def: Res, subresource: string | undefined, namespace: string | undefined, name: string | undefined): ApiError {
  const res = subresource ? `${def.resource}/${subresource}` : def.resource;
  const what = name ? `${qualifiedResource(def)} "${name}"` : qualifiedResource(def);
  const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
  return fail(403, 'Forbidden', `${what} is forbidden: User "${user}" cannot ${verb} resource "${res}" in API group "${def.group}" ${scope}`, detailsOf(def, name));
}

/** 403 for a non-resource URL. */
export const forbiddenPath = (user: string, verb: string, path: string): ApiError =>
  fail(403, 'Forbidden', `forbidden: User "${user}" cannot ${verb} path "${path}"`, {});

/** 403 from namespace lifecycle admission. */
export const namespaceTerminating = (def: Res, name: string, ns: string): ApiError =>
  fail(403, 'Forbidden', `${qualifiedResource(def)} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`, {
    ...detailsOf(def, name),
    causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }],
  });

/** 401. */
export const unauthorized = (): ApiError => fail(401, 'Unauthorized', 'Unauthorized');

/** 400. */
export const badRequest = (message: string): ApiError => fail(400, 'BadRequest', message);

/** 405. */
export const methodNotAllowed = (): ApiError => fail(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

/** 410 for a watch or continue token older than the retained history. */
export const gone = (message: string): ApiError => fail(410, 'Expired', message);

/** 415. */
export const unsupportedMediaType = (type: string): ApiError => fail(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json; got ${type}`);

/** 500 / 503 / any code, with the reason the real server uses for it (for injected faults). */
export function withCode(code: number, message?: string): ApiError {
  const reasons: Record<number, string> = {
    400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed', 409: 'Conflict', 410: 'Expired',
    422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
  };
  return fail(code, reasons[code] ?? 'Unknown', message ?? `injected failure (HTTP ${code})`, {});
}

/** A Status success (delete of kinds that do not return the object). */
export function success(def: Res, name: string, uid: string): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { ...detailsOf(def, name), uid }, code: 200 };
}

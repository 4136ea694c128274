import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterUnreachableError, classifyClusterError } from '../../src/cluster/errors.ts';
import { classifyError, type ErrorVerdict } from '../../src/checks/runner.ts';
import { SynczUnavailable } from '../../src/checks/syncz.ts';
import { CheckSkipped } from '../../src/checks/types.ts';
import { ExitCode, MeshError, toMeshError } from '../../src/errors.ts';

const errno = (code: string, message = `connect ${code} 10.0.0.1:6443`): Error => Object.assign(new Error(message), { code });
/** client-node's ApiException: `code` is the HTTP status, `body` the Status JSON. */
const apiException = (code: number): Error => Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: '{"kind":"Status","message":"nope"}' });

// Each row: what a check threw, and what the run must make of it. The messages of the last rows
// read like an unreachable cluster on purpose: only the type and code may decide.
const rows: { name: string; err: unknown; cluster: ReturnType<typeof classifyClusterError>; verdict: Pick<ErrorVerdict, 'status' | 'reason'> }[] = [
  { name: 'connection refused', err: toMeshError(errno('ECONNREFUSED')), cluster: 'unreachable', verdict: { status: 'fail', reason: 'unreachable' } },
  { name: 'DNS name not found', err: toMeshError(errno('ENOTFOUND', 'getaddrinfo ENOTFOUND api.example')), cluster: 'unreachable', verdict: { status: 'fail', reason: 'unreachable' } },
  { name: 'connect timeout', err: toMeshError(errno('ETIMEDOUT')), cluster: 'unreachable', verdict: { status: 'fail', reason: 'unreachable' } },
  { name: 'host unreachable', err: toMeshError(errno('EHOSTUNREACH')), cluster: 'unreachable', verdict: { status: 'fail', reason: 'unreachable' } },
  { name: 'unwrapped errno error', err: errno('ECONNRESET'), cluster: 'unreachable', verdict: { status: 'fail', reason: 'unreachable' } },
  { name: 'untrusted TLS certificate', err: toMeshError(errno('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate')), cluster: 'unreachable', verdict: { status: 'fail', reason: 'unreachable' } },
  { name: 'typed unreachable error (plain-HTTP kubeconfig)', err: new ClusterUnreachableError('the kubeconfig names a plain-HTTP API server'), cluster: 'unreachable', verdict: { status: 'fail', reason: 'unreachable' } },
  { name: 'HTTP 401 from the API', err: toMeshError(Object.assign(new Error('Unauthorized'), { statusCode: 401 })), cluster: 'unauthorized', verdict: { status: 'skip', reason: 'forbidden' } },
  { name: 'HTTP 403 from the API (ApiException shape)', err: new MeshError('pods is forbidden', { cause: apiException(403) }), cluster: 'forbidden', verdict: { status: 'skip', reason: 'forbidden' } },
  { name: 'HTTP 404 from the API', err: toMeshError(Object.assign(new Error('the server could not find the requested resource'), { statusCode: 404 })), cluster: 'not-found', verdict: { status: 'fail', reason: 'error' } },
  { name: 'a typed skip', err: new CheckSkipped('no controller to ask', 'install the mesh'), cluster: undefined, verdict: { status: 'skip', reason: 'not-applicable' } },
  { name: 'syncz unavailable (a typed skip)', err: new SynczUnavailable('no ready mesh-controller pod'), cluster: undefined, verdict: { status: 'skip', reason: 'not-applicable' } },
  { name: 'a plain bug', err: new TypeError('x is undefined'), cluster: undefined, verdict: { status: 'fail', reason: 'error' } },
  { name: 'exit-3 MeshError whose message only says "cannot reach"', err: new MeshError('cannot reach the Kubernetes API server: TLS error', { exitCode: ExitCode.Cluster }), cluster: undefined, verdict: { status: 'fail', reason: 'error' } },
  { name: 'error text with an errno but no code', err: new Error('connect ECONNREFUSED 127.0.0.1:1'), cluster: undefined, verdict: { status: 'fail', reason: 'error' } },
  { name: 'error text saying forbidden but no status', err: new Error('403 forbidden'), cluster: undefined, verdict: { status: 'fail', reason: 'error' } },
];

for (const row of rows) {
  test(`classify: ${row.name}`, () => {
    assert.equal(classifyClusterError(row.err), row.cluster);
    const v = classifyError(row.err);
    assert.deepEqual({ status: v.status, reason: v.reason }, row.verdict);
    assert.equal(v.retryable, v.status === 'fail', 'failures are retried by check --wait, skips are not');
  });
}

test('classify: the verdict keeps the message and the hint; forbidden says what was not allowed', () => {
  assert.deepEqual(classifyError(new CheckSkipped('no controller to ask', 'install the mesh')), { status: 'skip', reason: 'not-applicable', retryable: false, message: 'no controller to ask', hint: 'install the mesh' });
  const forbidden = classifyError(toMeshError(Object.assign(new Error('secrets "x" is forbidden'), { statusCode: 403 })));
  assert.match(forbidden.message, /^not allowed: .*secrets "x" is forbidden/);
  assert.match(forbidden.hint!, /RBAC/);
});

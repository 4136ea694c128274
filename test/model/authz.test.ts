// The one reading of AuthorizationPolicy semantics (src/model/authz.ts) that the xDS translation
// and the analyzers share.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { namesCaller, parsePrincipal, policyApplies, principalId, type AuthzPolicy } from '../../src/model/index.ts';

const policy = (selector?: Record<string, string>): AuthzPolicy => ({ name: 'p', namespace: 'shop', action: 'ALLOW', rules: [], ...(selector ? { selector } : {}) });

test('policyApplies: same namespace, and a matching selector or none', () => {
  const table: [AuthzPolicy, string, Record<string, string>, boolean][] = [
    [policy(), 'shop', {}, true],
    [policy(), 'other', {}, false],
    [policy({ app: 'web' }), 'shop', { app: 'web', tier: 'x' }, true],
    [policy({ app: 'web' }), 'shop', { app: 'api' }, false],
    [policy({ app: 'web', tier: 'x' }), 'shop', { app: 'web' }, false],
  ];
  for (const [p, ns, labels, want] of table) assert.equal(policyApplies(p, ns, labels), want, `${JSON.stringify(p.selector)} ${ns} ${JSON.stringify(labels)}`);
});

test('principals: parsed with or without spiffe://; wildcards and other shapes name no account', () => {
  assert.deepEqual(parsePrincipal('cluster.local/ns/shop/sa/web'), { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' });
  assert.deepEqual(parsePrincipal('spiffe://td/ns/a/sa/b'), { trustDomain: 'td', namespace: 'a', serviceAccount: 'b' });
  for (const p of ['*', 'cluster.local/ns/shop/sa/*', 'cluster.local/ns/shop', 'spiffe://td/ns/a/sa/b/c']) assert.equal(parsePrincipal(p), undefined, p);
  assert.equal(principalId('cluster.local/ns/shop/sa/web'), 'spiffe://cluster.local/ns/shop/sa/web');
  assert.equal(principalId('spiffe://cluster.local/ns/shop/sa/web'), 'spiffe://cluster.local/ns/shop/sa/web');
});

test('namesCaller: by principal or namespace, never by a wildcard', () => {
  const table: [{ principals: string[]; namespaces: string[] }, boolean][] = [
    [{ principals: ['cluster.local/ns/shop/sa/web'], namespaces: [] }, true],
    [{ principals: ['cluster.local/ns/shop/sa/api'], namespaces: [] }, false],
    [{ principals: [], namespaces: ['shop'] }, true],
    [{ principals: ['*'], namespaces: ['*'] }, false],
  ];
  for (const [src, want] of table) assert.equal(namesCaller(src, 'shop', 'web'), want, JSON.stringify(src));
});

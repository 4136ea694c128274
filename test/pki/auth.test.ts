import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOKEN_AUDIENCE } from '../../src/constants.ts';
import { MeshError } from '../../src/errors.ts';
import { authenticateToken, IssuanceError, type TokenReviewer, type TokenReviewResult } from '../../src/pki/index.ts';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.secret-token-body.sig';

/** A reviewer that answers `result` and records what it was asked. */
function reviewer(result: TokenReviewResult | Error): TokenReviewer & { asked: { token: string; audiences: string[] }[] } {
  const asked: { token: string; audiences: string[] }[] = [];
  return {
    asked,
    async tokenReview(token, audiences) {
      asked.push({ token, audiences });
      if (result instanceof Error) throw result;
      return result;
    },
  };
}

test('authenticateToken returns the namespace and ServiceAccount and asks for our audience', async () => {
  const r = reviewer({ authenticated: true, username: 'system:serviceaccount:shop:web-frontend', audiences: [TOKEN_AUDIENCE] });
  assert.deepEqual(await authenticateToken(r, TOKEN, TOKEN_AUDIENCE), { namespace: 'shop', serviceAccount: 'web-frontend' });
  assert.deepEqual(r.asked, [{ token: TOKEN, audiences: [TOKEN_AUDIENCE] }]);
});

const refusals: { name: string; result: TokenReviewResult | Error; token?: string; reason: string; message: RegExp }[] = [
  { name: 'no token', result: { authenticated: true }, token: ' ', reason: 'unauthenticated', message: /^no ServiceAccount token was presented$/ },
  { name: 'rejected token', result: { authenticated: false, error: `[invalid bearer token, token ${TOKEN} has expired]` }, reason: 'unauthenticated', message: /^the ServiceAccount token was rejected: \[invalid bearer token, token \[token\] has expired\]$/ },
  { name: 'rejected without a reason', result: { authenticated: false }, reason: 'unauthenticated', message: /^the ServiceAccount token was rejected$/ },
  { name: 'audience is the API server (empty list)', result: { authenticated: true, username: 'system:serviceaccount:shop:web', audiences: [] }, reason: 'unauthenticated', message: /^the token is not for audience "mesh-ca"$/ },
  { name: 'audience missing', result: { authenticated: true, username: 'system:serviceaccount:shop:web' }, reason: 'unauthenticated', message: /not for audience/ },
  { name: 'another audience', result: { authenticated: true, username: 'system:serviceaccount:shop:web', audiences: ['vault'] }, reason: 'unauthenticated', message: /not for audience/ },
  { name: 'a human user', result: { authenticated: true, username: 'alice@example.com', audiences: [TOKEN_AUDIENCE] }, reason: 'unauthenticated', message: /^"alice@example\.com" is not a ServiceAccount$/ },
  { name: 'a node', result: { authenticated: true, username: 'system:node:worker-1', audiences: [TOKEN_AUDIENCE] }, reason: 'unauthenticated', message: /is not a ServiceAccount/ },
  { name: 'a malformed SA user', result: { authenticated: true, username: 'system:serviceaccount:shop:web:extra', audiences: [TOKEN_AUDIENCE] }, reason: 'unauthenticated', message: /is not a ServiceAccount/ },
  { name: 'the reviewer fails', result: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), reason: 'failed-precondition', message: /TokenReview call failed/ },
];
for (const c of refusals) {
  test(`authenticateToken refuses: ${c.name}`, async () => {
    await assert.rejects(authenticateToken(reviewer(c.result), c.token ?? TOKEN, TOKEN_AUDIENCE), (e: unknown) => {
      assert.ok(e instanceof IssuanceError && e instanceof MeshError);
      assert.equal(e.reason, c.reason);
      assert.match(e.message, c.message);
      assert.ok(!`${e.message} ${e.hint}`.includes(TOKEN), 'never echoes the token');
      return true;
    });
  });
}

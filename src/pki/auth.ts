import { IssuanceError } from './errors.js';

/** The answer of a Kubernetes TokenReview, reduced to what the CA needs. */
export interface TokenReviewResult {
  authenticated: boolean;
  /** e.g. system:serviceaccount:shop:web */
  username?: string;
  /** Audiences the token is valid for, out of those asked about. */
  audiences?: string[];
  /** Extra attributes of the user; a pod-bound token carries POD_NAME_EXTRA / POD_UID_EXTRA. */
  extra?: Record<string, string[]>;
  /** Why it was not authenticated. */
  error?: string;
}

/**
 * Something that can review a token: the integrator backs it with the TokenReview API through
 * src/cluster; tests use a fake. It must not log the token.
 */
export interface TokenReviewer {
  tokenReview(token: string, audiences: string[]): Promise<TokenReviewResult>;
}

/** Who a workload is, as authenticated by its ServiceAccount token. */
export interface Caller {
  namespace: string;
  serviceAccount: string;
  /** The pod the token is bound to (projected tokens are), as the TokenReview reports it; absent for unbound tokens. */
  pod?: { name: string; uid?: string };
}

/** TokenReview user.extra key naming the pod a bound ServiceAccount token belongs to. */
export const POD_NAME_EXTRA = 'authentication.kubernetes.io/pod-name';
/** TokenReview user.extra key with that pod's UID. */
export const POD_UID_EXTRA = 'authentication.kubernetes.io/pod-uid';

const SA_USER = /^system:serviceaccount:([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?):([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)$/;

/**
 * Authenticate a caller by its projected ServiceAccount token: TokenReview with `audience` (our
 * TOKEN_AUDIENCE), and insist the reviewer confirms that audience (an empty audience list means
 * "valid for the API server", which is not us) and that the user is a ServiceAccount.
 * Throws IssuanceError('unauthenticated') otherwise; a reviewer that fails (API server down)
 * becomes an IssuanceError('failed-precondition') with the cause kept. Never echoes the token.
 */
export async function authenticateToken(reviewer: TokenReviewer, token: string, audience: string): Promise<Caller> {
  if (!token || token.trim() === '') throw new IssuanceError('unauthenticated', 'no ServiceAccount token was presented', 'mount a projected token with audience ' + audience);
  let r: TokenReviewResult;
  try {
    r = await reviewer.tokenReview(token, [audience]);
  } catch (err) {
    throw new IssuanceError('failed-precondition', 'cannot review the token: the Kubernetes TokenReview call failed', 'check that the controller can reach the API server', err);
  }
  if (!r.authenticated) {
    throw new IssuanceError('unauthenticated', `the ServiceAccount token was rejected${r.error ? `: ${redact(r.error, token)}` : ''}`, 'the token may be expired, revoked, or from another cluster');
  }
  if (!(r.audiences ?? []).includes(audience)) {
    throw new IssuanceError('unauthenticated', `the token is not for audience "${audience}"`, `project a token with audience ${audience} (serviceAccountToken.audience)`);
  }
  const m = SA_USER.exec(r.username ?? '');
  if (!m) {
    throw new IssuanceError('unauthenticated', `"${r.username ?? ''}" is not a ServiceAccount`, 'only pods, with their ServiceAccount token, can get workload certificates');
  }
  const caller: Caller = { namespace: m[1] as string, serviceAccount: m[3] as string };
  const podName = r.extra?.[POD_NAME_EXTRA]?.[0];
  const podUid = r.extra?.[POD_UID_EXTRA]?.[0];
  if (podName) caller.pod = podUid ? { name: podName, uid: podUid } : { name: podName };
  return caller;
}

/** Belt and braces: a reviewer's error text should never carry the token, but make sure. */
function redact(text: string, token: string): string {
  return token.length >= 8 ? text.split(token).join('[token]') : text;
}

/** Checks of the identity category (post-install): root CA, trust bundle and proxy certificates. */
import { X509Certificate } from 'node:crypto';
import { ROOT_CA_SECRET, TRUST_BUNDLE_CONFIGMAP } from '../../constants.js';
import type { LiveContext } from '../context.js';
import { formatDuration } from '../../duration.js';
import { secretValue } from '../k8s.js';
import { readSyncz, SynczUnavailable } from '../syncz.js';
import type { CheckOutcome } from '../types.js';
import { type C, fail, pass, skip, warn } from './shared.js';

/** Root CA expiry thresholds. */
export const ROOT_WARN_DAYS = 30;
export const ROOT_ERROR_DAYS = 7;

/** The certificates in a PEM bundle; unparsable blocks are left out. */
export function certsIn(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const out: X509Certificate[] = [];
  for (const b of blocks) {
    try {
      out.push(new X509Certificate(b));
    } catch {
      // an unparsable block is reported by the callers as "no certificate"
    }
  }
  return out;
}

/** The mesh root CA certificate from its Secret, or the failed outcome saying why there is none. */
export async function rootCert(ctx: LiveContext): Promise<{ cert?: X509Certificate; problem?: CheckOutcome }> {
  const secret = await ctx.get('v1', 'Secret', ROOT_CA_SECRET, ctx.namespace);
  if (!secret) return { problem: fail(`Secret ${ctx.namespace}/${ROOT_CA_SECRET} not found`, 'run "mesh install" to create the root CA') };
  const pem = secretValue(secret, 'tls.crt') ?? secretValue(secret, 'ca.crt');
  const cert = pem ? certsIn(pem)[0] : undefined;
  if (!cert) return { problem: fail(`Secret ${ctx.namespace}/${ROOT_CA_SECRET} holds no parsable certificate in tls.crt`, 'restore the Secret or rotate the root CA') };
  return { cert };
}

// identity

const DAY = 86_400_000;

/** A CA certificate's remaining validity against the thresholds: the outcome level and the sentence. */
function caCountdown(what: string, cert: X509Certificate, now: Date): { level: 'pass' | 'warn' | 'fail'; text: string } {
  const notAfter = new Date(cert.validTo);
  const notBefore = new Date(cert.validFrom);
  const left = notAfter.getTime() - now.getTime();
  const days = Math.floor(left / DAY);
  if (notBefore.getTime() > now.getTime()) return { level: 'fail', text: `the ${what} is not valid until ${notBefore.toISOString()}` };
  if (left <= 0) return { level: 'fail', text: `the ${what} expired on ${notAfter.toISOString()}` };
  const text = `the ${what} expires in ${days} day(s), on ${notAfter.toISOString()}`;
  return { level: left < ROOT_ERROR_DAYS * DAY ? 'fail' : left < ROOT_WARN_DAYS * DAY ? 'warn' : 'pass', text };
}

/**
 * identity.root-ca: the root CA, and the issuer when it is an intermediate (the first certificate
 * of tls.crt when that holds a chain), are valid for more than ROOT_WARN_DAYS days. Both countdowns
 * are in the message; the worse of the two decides.
 */
export const rootCa: C = {
  id: 'identity.root-ca',
  category: 'identity',
  description: `the root CA and the issuer are valid for more than ${ROOT_WARN_DAYS} days`,
  severity: 'error',
  hintAnchor: 'identity-root-ca',
  async run(ctx) {
    const { cert, problem } = await rootCert(ctx);
    if (problem) return problem;
    const secret = await ctx.get('v1', 'Secret', ROOT_CA_SECRET, ctx.namespace);
    const chain = certsIn((secret && secretValue(secret, 'tls.crt')) ?? '');
    // The root: the last certificate of the chain, or ca.crt's when tls.crt holds the issuer alone.
    const selfSigned = (c: X509Certificate) => c.checkIssued(c);
    const root = chain.findLast(selfSigned) ?? certsIn((secret && secretValue(secret, 'ca.crt')) ?? '').find(selfSigned) ?? cert!;
    const issuer = chain[0] ?? cert!;
    const counts = [caCountdown('root CA', root, ctx.now)];
    const same = issuer.fingerprint256 === root.fingerprint256;
    if (!same) counts.push(caCountdown(`issuer (intermediate ${issuer.subject.replace(/\n/g, ', ')})`, issuer, ctx.now));
    const details = [...counts.map((c) => c.text), same ? 'the root is also the issuer: mesh signs workload certificates with it directly' : 'workload certificates are signed by the intermediate'];
    const hint = 'replace it: "mesh upgrade --ca-cert NEW.pem --ca-key NEW-key.pem" (also when it has already expired; docs/pki.md#replacing-the-root)';
    const worst = counts.find((c) => c.level === 'fail') ?? counts.find((c) => c.level === 'warn');
    if (worst?.level === 'fail') return fail(worst.text, hint, details);
    if (worst) return warn(worst.text, hint, details);
    const days = Math.floor((new Date(root.validTo).getTime() - ctx.now.getTime()) / DAY);
    return pass(`valid until ${new Date(root.validTo).toISOString()} (${days} days)${same ? '; the root is also the issuer' : `; issuer valid until ${new Date(issuer.validTo).toISOString()}`}`, details);
  },
};

/** identity.trust-bundle: the trust bundle workloads use contains the root CA. */
export const trustBundle: C = {
  id: 'identity.trust-bundle',
  category: 'identity',
  description: 'the trust bundle workloads use contains the root CA',
  severity: 'error',
  hintAnchor: 'identity-trust-bundle',
  async run(ctx) {
    const { cert, problem } = await rootCert(ctx);
    if (problem) return skip(`cannot compare: ${problem.message}`);
    const cm = await ctx.get('v1', 'ConfigMap', TRUST_BUNDLE_CONFIGMAP, ctx.namespace);
    if (!cm) return fail(`ConfigMap ${ctx.namespace}/${TRUST_BUNDLE_CONFIGMAP} not found`, 're-run "mesh install"');
    const bundle = certsIn(secretValue(cm, 'ca.crt') ?? '');
    if (!bundle.some((c) => c.fingerprint256 === cert!.fingerprint256)) return fail('the trust bundle does not contain the current root: proxies will reject each other\'s certificates', 're-run "mesh install" (or "mesh upgrade") to rewrite the bundle');
    return pass(`${bundle.length} root(s) in the bundle, including the current one`);
  },
};

/** A proxy certificate past this share of its lifetime was not rotated (the control plane renews at half). */
const CERT_STALE_FRACTION = 0.8;

/** identity.proxy-certificates: certificates the control plane serves to proxies (SDS) are current and rotated. */
export const proxyCerts: C = {
  id: 'identity.proxy-certificates',
  category: 'identity',
  description: 'certificates the control plane serves to proxies (SDS) are current and rotated',
  severity: 'error',
  hintAnchor: 'identity-proxy-certificates',
  async run(ctx) {
    let sync;
    try {
      sync = await readSyncz(ctx);
    } catch (err) {
      if (err instanceof SynczUnavailable) return skip(err.message, 'the control plane reports certificates in /debug/syncz; allow "get pods/proxy" in the mesh namespace');
      throw err;
    }
    const withCert = sync.filter((p) => p.certificate);
    if (withCert.length === 0) {
      if (!sync.length) return skip('no connected proxies');
      const reasons = [...new Set(sync.flatMap((p) => (p.identityReason ? [p.identityReason] : [])))];
      const why = reasons.length ? `: ${reasons.slice(0, 3).join('; ')}${reasons.length > 3 ? ` (+${reasons.length - 3} more)` : ''}` : '';
      return skip(`no proxy holds a certificate from the control plane (${sync.length} proxy(ies) connected)${why}`, 'sidecars get certificates over SDS only on the TLS xDS port with their ServiceAccount token; /debug/syncz shows why per stream');
    }
    const now = ctx.now.getTime();
    const name = (p: (typeof withCert)[number]): string => `${p.namespace}/${p.pod}${p.certificate!.serial ? ` (serial ${p.certificate!.serial})` : ''}`;
    const expired = withCert.filter((p) => Date.parse(p.certificate!.notAfter) <= now);
    if (expired.length) return fail(`${expired.length} proxy certificate(s) have expired`, 'the control plane is not rotating them: check its logs and the root CA', expired.map((p) => `${name(p)}: expired ${p.certificate!.notAfter}`));
    const stale = withCert.filter((p) => {
      const c = p.certificate!;
      if (!c.notBefore) return false;
      const from = Date.parse(c.notBefore);
      const to = Date.parse(c.notAfter);
      return now >= from + (to - from) * CERT_STALE_FRACTION;
    });
    if (stale.length) {
      return warn(
        `${stale.length} proxy certificate(s) are past ${CERT_STALE_FRACTION * 100}% of their lifetime without rotation (renewal is due at half)`,
        'check the control plane log for "SDS:" lines and the root CA; a proxy whose pod was deleted is not renewed',
        stale.map((p) => `${name(p)}: expires ${p.certificate!.notAfter}${p.certificate!.renewing === false ? ', not renewed' : ''}`),
      );
    }
    // The certificate closest to expiry (the oldest issued): its countdown, so a stuck rotation shows early.
    const soonest = withCert.reduce((a, b) => (Date.parse(b.certificate!.notAfter) < Date.parse(a.certificate!.notAfter) ? b : a));
    return pass(`${withCert.length} proxy certificate(s) current; the oldest, ${name(soonest)}, expires in ${formatDuration(Math.round((Date.parse(soonest.certificate!.notAfter) - now) / 60_000) * 60_000)} (${soonest.certificate!.notAfter})`);
  },
};

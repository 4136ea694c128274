import { bootstrapJson, validateBootstrapFlags, type BootstrapFlags } from './bootstrap.js';
import { iptablesRules, validateProxyInitOptions, type ProxyInitFlags } from './iptables.js';

/** What `mesh proxy-init` applies: iptables-restore input per IP family and, with --bootstrap-out, the bootstrap to write. */
export interface ProxyInitPlan {
  v4: string;
  v6: string;
  bootstrap?: { out: string; json: string };
  /** False for an ingress gateway's proxy (--gateway-name): it only needs its bootstrap, nothing is captured. */
  redirect: boolean;
}

/**
 * Validate the proxy-init flags and compute what to apply (pure: `env` holds the pod's downward-API
 * identity). Applying it (files, iptables-restore) is src/commands/proxy-init-run.ts.
 */
export function planProxyInit(flags: ProxyInitFlags & BootstrapFlags, env: Readonly<Record<string, string | undefined>>): ProxyInitPlan {
  const bootstrap = validateBootstrapFlags(flags, env);
  if (flags.gatewayName !== undefined) {
    // validateBootstrapFlags refused --gateway-name without --bootstrap-out.
    return { v4: '', v6: '', bootstrap: { out: bootstrap!.out, json: bootstrapJson(bootstrap!.options) }, redirect: false };
  }
  const opts = validateProxyInitOptions(flags);
  const plan: ProxyInitPlan = { v4: iptablesRules(opts, 4), v6: iptablesRules(opts, 6), redirect: true };
  if (bootstrap) plan.bootstrap = { out: bootstrap.out, json: bootstrapJson(bootstrap.options) };
  return plan;
}

/** The policy category: analysis of the live objects by the same analyzers `mesh check -f` runs. */
import { MESH_DOMAIN, PROXY_CONTAINER } from '../../constants.js';
import { analyze, type SourcedObject } from '../../analyzers/index.js';
import type { CheckOutcome } from '../types.js';
import { type C, SYSTEM_NAMESPACES } from './shared.js';

const LIVE_KINDS: [string, string][] = [
  ['v1', 'Namespace'],
  ['v1', 'Service'],
  ['v1', 'ServiceAccount'],
  ['v1', 'Pod'],
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'DaemonSet'],
];
const LIVE_OPTIONAL_KINDS: [string, string][] = [
  ['gateway.networking.k8s.io/v1', 'HTTPRoute'],
  [`${MESH_DOMAIN}/v1alpha1`, 'AuthorizationPolicy'],
  [`${MESH_DOMAIN}/v1alpha1`, 'TrafficPolicy'],
];

/** The policy analysis check: lists what the analyzers read and runs them. Exported for `-f` mode's twin. */
export const policyAnalysis: C = {
  id: 'policy.analysis',
  category: 'policy',
  description: 'mesh configuration has no policy errors',
  severity: 'error',
  hintAnchor: 'policy-analysis',
  lists: [...LIVE_KINDS, ...LIVE_OPTIONAL_KINDS].map(([apiVersion, kind]) => ({ apiVersion, kind })),
  async run(ctx) {
    const lists = await Promise.all([...LIVE_KINDS.map(([v, k]) => ctx.list(v, k)), ...LIVE_OPTIONAL_KINDS.map(([v, k]) => ctx.listOptional(v, k))]);
    const objects: SourcedObject[] = lists
      .flat()
      .filter((o) => !SYSTEM_NAMESPACES.has(o.metadata.namespace ?? '') && !(o.kind === 'Namespace' && SYSTEM_NAMESPACES.has(o.metadata.name)))
      .map((object) => ({ object }));
    const result = analyze(objects, { complete: true, suppress: ctx.suppress, proxyContainer: PROXY_CONTAINER });
    return { ...summarizeFindings(result.findings, result.objects), suppressed: result.suppressed };
  },
};

/** The outcome of a policy analysis: fail on errors, warn on warnings, pass otherwise. */
export function summarizeFindings(findings: import('../../analyzers/types.js').Finding[], objects: number): CheckOutcome {
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  const msg = `${objects} object(s) analyzed: ${errors} error(s), ${warnings} warning(s), ${findings.length - errors - warnings} info`;
  const hint = 'see the findings below; each code is documented in docs/checks.md';
  if (errors) return { status: 'fail', message: msg, hint, findings };
  if (warnings) return { status: 'warn', message: msg, hint, findings };
  return { status: 'pass', message: msg, findings };
}

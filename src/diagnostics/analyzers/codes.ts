import type { FindingCode } from './types.js';

/**
 * Every finding code, once. docs/checks.md has a section per code (anchor: the code in lower case);
 * a test keeps the two in step. Codes are never reused or renumbered.
 */
export const CODES = {
  routeParentMissing: { code: 'MSH0001', severity: 'error', title: 'HTTPRoute parent Service not found' },
  routeParentPort: { code: 'MSH0002', severity: 'error', title: 'HTTPRoute parent port not on the Service' },
  routeBackendMissing: { code: 'MSH0003', severity: 'error', title: 'HTTPRoute backend Service not found' },
  routeBackendPort: { code: 'MSH0004', severity: 'error', title: 'HTTPRoute backend port missing or not on the Service' },
  routeZeroWeights: { code: 'MSH0005', severity: 'error', title: 'HTTPRoute rule weights sum to zero' },
  routeConflict: { code: 'MSH0006', severity: 'warning', title: 'Two HTTPRoutes claim the same parent and match' },
  authzNoWorkload: { code: 'MSH0007', severity: 'warning', title: 'AuthorizationPolicy selects no workload' },
  authzUnknownAccount: { code: 'MSH0008', severity: 'warning', title: 'AuthorizationPolicy names an unknown service account' },
  strictUninjectedCaller: { code: 'MSH0009', severity: 'error', title: 'STRICT mTLS service called by a workload without a sidecar' },
  portNoProtocol: { code: 'MSH0010', severity: 'warning', title: 'Service port declares no protocol' },
  workloadNoService: { code: 'MSH0011', severity: 'info', title: 'Workload selected by no Service' },
  annotationUnknown: { code: 'MSH0012', severity: 'warning', title: 'Unknown mesh.dev annotation' },
  annotationInvalid: { code: 'MSH0013', severity: 'error', title: 'Invalid mesh.dev annotation value' },
} as const satisfies Record<string, FindingCode>;

/** All codes in order. */
export const ALL_CODES: readonly FindingCode[] = Object.values(CODES).sort((a, b) => a.code.localeCompare(b.code));

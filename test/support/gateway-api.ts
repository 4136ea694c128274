import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KubeObject } from '../../src/cluster/types.ts';
import { bundleObjects, GATEWAY_API, type GatewayApiPin } from '../../src/install/gateway-api.ts';

/** The stand-in Gateway API bundle (test/fixtures/gateway-api): the release's CRD names and versions with open schemas. */
export const GATEWAY_API_BUNDLE = fileURLToPath(new URL('../fixtures/gateway-api/standard-install.yaml', import.meta.url));

/** The stand-in bundle pinned by its own digest, as if it were the release (for install's apply path). */
export const STAND_IN_PIN: GatewayApiPin = { ...GATEWAY_API, sha256: createHash('sha256').update(readFileSync(GATEWAY_API_BUNDLE)).digest('hex') };

/** The stand-in bundle's CRDs (GatewayClass, Gateway, HTTPRoute, GRPCRoute, ReferenceGrant), to seed a test API server with. */
export function gatewayApiCrds(): KubeObject[] {
  return bundleObjects(readFileSync(GATEWAY_API_BUNDLE, 'utf8'), GATEWAY_API_BUNDLE, STAND_IN_PIN);
}

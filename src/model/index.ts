/** The pure mesh model: Kubernetes objects in, the mesh's view out (see DESIGN.md). */
export * from './types.js';
export { buildModel, isHttp, parseDuration, policiesFor, portProtocol, reachableServices, serviceKey, spiffeId } from './build.js';
export type { ModelOptions } from './build.js';

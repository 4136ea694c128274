// client-node's KubeConfig, the one class every cluster command needs to connect (kubeconfig
// files, contexts, credentials: certificates, tokens, exec and auth-provider plugins, proxies).
// Imported from its own module so `npm run build` can replace this file's output with a bundle
// of that class alone (scripts/build-kubeconfig.mjs): the package's entry point also loads every
// generated API model (about 1,900 modules, 0.45 s of CPU) that a short command never uses.
// Unbundled (tsx, a bare tsc) this is the library itself, the same class as the package's export.

/** client-node's KubeConfig (bundled alone in dist/: see the file comment). */
export { KubeConfig } from '@kubernetes/client-node/dist/config.js';

import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';

/** `mesh controller`: run the control plane (ADS, introspection) from Kubernetes or from manifests on disk. */
export function define(cmd: Command): void {
  cmd
    .argument('[paths...]', 'manifest files or directories (with --source files)')
    .option('--source <source>', 'where objects come from: files or kubernetes (default: files when paths are given)')
    .option('--address <host>', 'address to listen on', '0.0.0.0')
    .option('--plaintext-xds', 'also serve ADS without TLS on --xds-port: anyone who reaches it gets config for any namespace it names (trusted networks only; off by default)')
    .option('--xds-port <port>', 'plaintext ADS (gRPC) port, with --plaintext-xds; 0 picks a free one (default: values controller.xdsPort)')
    .option('--xds-tls-port <port>', 'TLS gRPC port: ADS and the CA service, with a root CA; 0 picks a free one (default: values controller.xdsTlsPort)')
    .option('--metrics-port <port>', 'introspection HTTP port: /metrics, /debug/syncz, /debug/config_dump, /healthz, /readyz (default: values controller.metricsPort)')
    .option('--webhook-port <port>', 'HTTPS admission webhook port (POST /inject); 0 picks a free one (default: values controller.webhookPort)')
    .option('--mesh-namespace <ns>', 'namespace the mesh is installed in: mesh-config, the root CA Secret, webhook DNS names (default: $POD_NAMESPACE or the values namespace)')
    .option('--values <file>', 'values YAML for the webhook (files source; the kubernetes source reads the mesh-config ConfigMap)')
    .option('--ca-cert <file>', 'root CA certificate PEM (files source; the kubernetes source reads the mesh-root-ca Secret)')
    .option('--ca-key <file>', 'root CA private key PEM, with --ca-cert')
    .option('--debounce <duration>', 'source changes within this window become one snapshot', '100ms')
    .option('--trust-domain <domain>', 'SPIFFE trust domain of workload identities')
    .option('--default-mtls <mode>', 'mTLS mode of namespaces without the mesh.dev/mtls annotation: STRICT, PERMISSIVE or DISABLE')
    .addHelpText('after', '\nExamples:\n  mesh controller --source files ./k8s --plaintext-xds --xds-port 15010\n  mesh controller --source kubernetes\n  kill -HUP <pid>   # reload a files source and re-read the root CA')
    .action(async (paths: string[], opts: Record<string, string | boolean | undefined>, command: Command) => {
      const g = globalsOf(command);
      (await import('../ui/format.js')).refuseOutputFormat(g.output);
      const ui = makeUi(g);
      const { DEFAULTS } = await import('../manifests/values.js');
      const { validateControllerOptions, runController } = await import('../controller/run.js');
      const o = validateControllerOptions(
        { ...pickStrings(opts, ['source', 'address', 'xdsPort', 'xdsTlsPort', 'metricsPort', 'debounce', 'trustDomain', 'defaultMtls', 'webhookPort', 'values', 'caCert', 'caKey', 'meshNamespace']), paths, plaintextXds: opts.plaintextXds === true },
        { xdsPort: DEFAULTS.controller.xdsPort, xdsTlsPort: DEFAULTS.controller.xdsTlsPort, metricsPort: DEFAULTS.controller.metricsPort, webhookPort: DEFAULTS.controller.webhookPort, namespace: process.env.POD_NAMESPACE || DEFAULTS.namespace },
      );
      if (g.kubeconfig) o.kubeconfig = g.kubeconfig;
      if (g.context) o.context = g.context;
      process.exitCode = await runController(o, ui);
    });
}

/** The string-valued flags among `keys` (commander leaves absent ones undefined). */
function pickStrings<K extends string>(opts: Record<string, string | boolean | undefined>, keys: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const k of keys) {
    const v = opts[k];
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';

/** `mesh controller`: run the control plane (ADS, introspection) from Kubernetes or from manifests on disk. */
export function define(cmd: Command): void {
  cmd
    .argument('[paths...]', 'manifest files or directories (with --source files)')
    .option('--source <source>', 'where objects come from: files or kubernetes (default: files when paths are given)')
    .option('--address <host>', 'address to listen on', '0.0.0.0')
    .option('--xds-port <port>', 'ADS (gRPC) port; 0 picks a free one (default: values controller.xdsPort)')
    .option('--metrics-port <port>', 'introspection HTTP port: /metrics, /debug/syncz, /debug/config_dump, /healthz, /readyz (default: values controller.metricsPort)')
    .option('--debounce <ms>', 'source changes within this window become one snapshot', '100')
    .option('--trust-domain <domain>', 'SPIFFE trust domain of workload identities')
    .option('--default-mtls <mode>', 'mTLS mode of namespaces without the mesh.dev/mtls annotation: STRICT, PERMISSIVE or DISABLE')
    .addHelpText('after', '\nExamples:\n  mesh controller --source files ./k8s --xds-port 15010\n  mesh controller --source kubernetes\n  kill -HUP <pid>   # reload a files source')
    .action(async (paths: string[], opts: Record<string, string | undefined>, command: Command) => {
      const g = globalsOf(command);
      const ui = makeUi(g);
      const { DEFAULTS } = await import('../manifests/values.js');
      const { validateControllerOptions, runController } = await import('../controller/run.js');
      const o = validateControllerOptions(
        { source: opts.source, paths, address: opts.address, xdsPort: opts.xdsPort, metricsPort: opts.metricsPort, debounce: opts.debounce, trustDomain: opts.trustDomain, defaultMtls: opts.defaultMtls },
        { xdsPort: DEFAULTS.controller.xdsPort, metricsPort: DEFAULTS.controller.metricsPort },
      );
      if (g.kubeconfig) o.kubeconfig = g.kubeconfig;
      if (g.context) o.context = g.context;
      process.exitCode = await runController(o, ui);
    });
}

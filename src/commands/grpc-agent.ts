import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';

/** `mesh grpc-agent`: the identity agent of a proxyless gRPC workload. Handler: src/agent/grpc-agent.ts. */
export function define(cmd: Command): void {
  cmd
    .option('--out-dir <dir>', 'where to keep cert.pem, key.pem (0600), ca.pem and bootstrap.json (default /var/run/mesh/grpc)')
    .option('--ca-address <host:port>', "the mesh CA: the controller's TLS port (default mesh-controller.$MESH_NAMESPACE.svc:15012)")
    .option('--ca-server-name <name>', "name the CA's serving certificate must carry (default: the host of --ca-address)")
    .option('--xds-address <host:port>', 'xDS server written into the gRPC bootstrap (default mesh-controller.$MESH_NAMESPACE.svc:15010)')
    .option('--trust-bundle <file>', 'PEM roots to trust the CA with (default /var/run/secrets/mesh/ca/ca.crt)')
    .option('--token-file <file>', 'projected ServiceAccount token, audience mesh-ca (default /var/run/secrets/mesh/tokens/mesh-token)')
    .option('--once', 'fetch the certificate, write the files and exit (an init container); default: keep renewing')
    .option('--timeout <duration>', 'per request to the CA (default 10s)')
    .addHelpText(
      'after',
      '\nRuns beside a proxyless gRPC workload (a native sidecar, or an init container with --once): the key is\ngenerated here and never sent; the CA signs a CSR after reviewing the pod\'s token. Point the workload at\nGRPC_XDS_BOOTSTRAP=<out-dir>/bootstrap.json. The pod comes from POD_NAME/POD_NAMESPACE, else the token. See docs/controller.md.\n\nExample:\n  mesh grpc-agent --out-dir /var/run/mesh/grpc',
    )
    .action(async (opts: Record<string, string | boolean | undefined>, command: Command) => {
      const g = globalsOf(command);
      (await import('../ui/format.js')).refuseOutputFormat(g.output);
      const ui = makeUi(g);
      const { runGrpcAgent, validateGrpcAgentOptions } = await import('../agent/grpc-agent.js');
      const s = (k: string) => opts[k] as string | undefined;
      const o = validateGrpcAgentOptions(
        { outDir: s('outDir'), caAddress: s('caAddress'), caServerName: s('caServerName'), xdsAddress: s('xdsAddress'), trustBundle: s('trustBundle'), tokenFile: s('tokenFile'), once: opts.once === true, timeout: s('timeout') },
        process.env,
      );
      const { withInterrupt } = await import('../util/interrupt.js');
      process.exitCode = await withInterrupt((signal) => runGrpcAgent(o, ui, { env: process.env, signal }), ['SIGTERM', 'SIGINT']);
    });
}

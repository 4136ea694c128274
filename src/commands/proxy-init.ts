import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';

/** `mesh proxy-init`: what the injected mesh-init container runs. Handler: src/commands/proxy-init-run.ts. */
export function define(cmd: Command): void {
  cmd
    .option('--proxy-uid <uid>', "the proxy's UID: its traffic is not redirected")
    .option('--inbound-capture-port <port>', 'port inbound TCP is redirected to')
    .option('--outbound-capture-port <port>', 'port outbound TCP is redirected to')
    .option('--inbound-ports <ports>', 'inbound ports to capture, comma-separated, or * (default *)')
    .option('--exclude-inbound-ports <ports>', 'inbound ports never captured')
    .option('--exclude-outbound-ports <ports>', 'outbound destination ports never captured')
    .option('--include-outbound-ip-ranges <cidrs>', 'outbound destinations to capture, or * (default *)')
    .option('--exclude-outbound-ip-ranges <cidrs>', 'outbound destinations never captured')
    .option('--bootstrap-out <path>', "also write the proxy's Envoy bootstrap (JSON) to this file, atomically")
    .option('--mesh-version <version>', 'bootstrap: the mesh version that injected the pod')
    .option('--trust-domain <domain>', 'bootstrap: the mesh trust domain')
    .option('--xds-address <host:port>', "bootstrap: the control plane's xDS Service")
    .option('--xds-mode <mode>', 'bootstrap: ADS variant, sotw (default) or delta (incremental xDS)')
    .option('--admin-port <port>', "bootstrap: Envoy's admin port (127.0.0.1 only)")
    .option('--stats-port <port>', 'bootstrap: the Prometheus stats port')
    .option('--readiness-port <port>', 'bootstrap: the readiness (and rewritten app probe) port')
    .option('--app-probes <json>', 'bootstrap: rewritten kubelet probes, as mesh inject writes them')
    .option('--gateway-name <name>', "bootstrap of an ingress Gateway's proxy (PROXY_KIND=gateway): no redirect is installed")
    .option('--dry-run', 'print the iptables-restore input (and the bootstrap) instead of applying (writing) it')
    .addHelpText(
      'after',
      '\nRuns in the mesh-init container that mesh inject adds (root, NET_ADMIN and NET_RAW only). With --bootstrap-out\nthe pod comes from the env POD_NAME, POD_NAMESPACE, POD_IP and SERVICE_ACCOUNT (the downward API). See docs/annotations.md.\n\nExample:\n  mesh proxy-init --proxy-uid 1337 --inbound-capture-port 15006 --outbound-capture-port 15001 --dry-run',
    )
    .action(async (opts: Record<string, string | boolean | undefined>, command: Command) => {
      const g = globalsOf(command);
      (await import('../ui/format.js')).refuseOutputFormat(g.output);
      const ui = makeUi(g);
      const { runProxyInit } = await import('./proxy-init-run.js');
      const s = (k: string) => opts[k] as string | undefined;
      process.exitCode = await runProxyInit(
        {
          proxyUid: s('proxyUid'),
          inboundCapturePort: s('inboundCapturePort'),
          outboundCapturePort: s('outboundCapturePort'),
          inboundPorts: s('inboundPorts'),
          excludeInboundPorts: s('excludeInboundPorts'),
          excludeOutboundPorts: s('excludeOutboundPorts'),
          includeOutboundIpRanges: s('includeOutboundIpRanges'),
          excludeOutboundIpRanges: s('excludeOutboundIpRanges'),
          bootstrapOut: s('bootstrapOut'),
          meshVersion: s('meshVersion'),
          trustDomain: s('trustDomain'),
          xdsAddress: s('xdsAddress'),
          xdsMode: s('xdsMode'),
          adminPort: s('adminPort'),
          statsPort: s('statsPort'),
          readinessPort: s('readinessPort'),
          appProbes: s('appProbes'),
          dryRun: opts.dryRun === true,
        },
        ui,
        process.env,
      );
    });
}

import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';

/** `mesh proxy-init`: what the injected mesh-init container runs. Handler: src/manifests/proxy-init-run.ts. */
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
    .option('--dry-run', 'print the iptables-restore input instead of applying it')
    .addHelpText('after', '\nRuns in the mesh-init container that mesh inject adds (root, NET_ADMIN and NET_RAW only). See docs/annotations.md.\n\nExample:\n  mesh proxy-init --proxy-uid 1337 --inbound-capture-port 15006 --outbound-capture-port 15001 --dry-run')
    .action(async (opts: Record<string, string | boolean | undefined>, command: Command) => {
      const ui = makeUi(globalsOf(command));
      const { runProxyInit } = await import('../manifests/proxy-init-run.js');
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
          dryRun: opts.dryRun === true,
        },
        ui,
      );
    });
}

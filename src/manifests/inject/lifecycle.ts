/**
 * The proxy's life at the two ends of a pod's life, as the bash the sidecar runs (the Envoy image
 * has bash; the hold-application postStart already relies on it):
 *
 * - exit with the app: a run-to-completion pod (restartPolicy Never or OnFailure: Jobs, CronJobs)
 *   with a classic sidecar never completes while the proxy runs (istio#6324, linkerd2#1869). The
 *   pod shares its PID namespace, and the proxy's command watches for processes of other containers
 *   (a /proc entry whose cgroup differs from its own, other than the sandbox's PID 1): once it has
 *   seen one and none is left, it stops Envoy (SIGTERM: Envoy exits 0), so the pod can succeed.
 * - drain on termination: kubelet runs the proxy's preStop before it sends the proxy SIGTERM; the
 *   hook tells Envoy to drain its inbound listeners (POST /drain_listeners?graceful&inboundonly:
 *   no new inbound, open inbound connections told to close, outbound untouched) and returns only
 *   when the app is gone (no app process left, with a shared PID namespace; otherwise when Envoy
 *   holds no downstream connection), so the app's outbound calls work until it exits. kubelet kills
 *   everything at terminationGracePeriodSeconds whatever the hook does.
 *
 * Both scripts read MESH_PROC (default /proc) and MESH_POLL (seconds between looks, default 1)
 * so a test can run them against a fake /proc; the rendered pod never sets either.
 */

/** Bash: is any process of another container alive? Sets `app` to 1 or 0. */
const APP_ALIVE = [
  'own=$(cat "${MESH_PROC:-/proc}/self/cgroup")',
  'alive() { app=0; for d in "${MESH_PROC:-/proc}"/[0-9]*; do [ "${d##*/}" = 1 ] && continue; c=$(cat "$d/cgroup" 2>/dev/null) || continue; [ "$c" != "$own" ] && { app=1; return; }; done; }',
].join('\n');

/**
 * The proxy container's command for a run-to-completion pod with a classic sidecar: runs Envoy
 * with the arguments that follow, and stops it once the app containers have all exited.
 */
export function exitWithAppCommand(envoyArgs: readonly string[]): string[] {
  const script = [
    '"$@" & envoy=$!',
    // kubelet's SIGTERM (pod deletion, activeDeadlineSeconds) still reaches Envoy.
    'trap \'kill -TERM $envoy 2>/dev/null\' TERM',
    APP_ALIVE,
    'seen=0',
    'while kill -0 $envoy 2>/dev/null; do',
    '  alive',
    '  if [ $app = 1 ]; then [ $seen = 0 ] && echo "mesh-proxy: app containers running; the proxy stops when they have exited" >&2; seen=1',
    '  elif [ $seen = 1 ]; then echo "mesh-proxy: app containers exited; stopping the proxy" >&2; kill -TERM $envoy; seen=2; fi',
    '  sleep "${MESH_POLL:-1}" & wait $!',
    'done',
    'wait $envoy',
  ].join('\n');
  return ['bash', '-c', script, 'mesh-proxy', 'envoy', ...envoyArgs];
}

/** Envoy's drain flags: how long draining lasts and that every drained connection is told to close at once. */
export function drainArgs(drainSeconds: number): string[] {
  return ['--drain-time-s', String(drainSeconds), '--drain-strategy', 'immediate'];
}

/** The admin request that starts the inbound drain (the preStop hook's first step). */
export const DRAIN_INBOUND_PATH = '/drain_listeners?graceful&inboundonly';

/**
 * The proxy's preStop command: drain inbound through the admin port on localhost, then wait until
 * the app is gone (`sharedPids`: no process of another container; otherwise Envoy's
 * server.total_connections down to the kubelet probe's at most) and at least `drainSeconds`.
 */
export function drainPreStop(adminPort: number, drainSeconds: number, sharedPids: boolean): string[] {
  const admin = `/dev/tcp/127.0.0.1/${adminPort}`;
  // The path goes in as an argument: printf would read its %-escapes as conversions.
  const http = (method: string, path: string) => `{ exec 3<>${admin} && printf '%s %s HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' ${method} '${path}' >&3 && cat <&3; } 2>/dev/null`;
  const gone = sharedPids
    ? [APP_ALIVE, 'gone() { alive; [ $app = 0 ]; }']
    : [`gone() { n=$(${http('GET', '/stats?filter=%5Eserver%5C.total_connections%24')} | sed -n 's/^server\\.total_connections: //p'); [ -n "$n" ] && [ "$n" -le 1 ]; }`];
  const script = [
    `${http('POST', DRAIN_INBOUND_PATH)} >/dev/null`,
    ...gone,
    `end=$((SECONDS + ${drainSeconds}))`,
    'until [ $SECONDS -ge $end ] && gone; do sleep "${MESH_POLL:-1}"; done',
  ].join('\n');
  return ['bash', '-c', script];
}

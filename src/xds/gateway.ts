import { serviceKey } from '../model/build.js';
import { gatewayBindPort, type GatewayListener, type MeshGateway } from '../model/gateway.js';
import type { MeshModel } from '../model/types.js';
import { TYPE } from './protos.js';
import { proxyTelemetry, type ProxyTelemetry } from './observability.js';
import { ADS, T, addOutbound, emptyResources, httpFilters, ruleRoutes, type Msg, type ProxyInfo, type Resources } from './translate.js';

/**
 * Envoy resources of an ingress Gateway's proxies (one shared set per Gateway): a listener per
 * port with its listeners' filter chains (HTTP: one HCM; HTTPS: one chain per Gateway listener,
 * chosen by SNI, terminating TLS with the listener's certificates delivered over SDS), a route
 * configuration per HCM with a virtual host per hostname, and mTLS clusters to every backend of
 * the attached routes (the gateway's own SPIFFE certificate, SDS `default`). Pure.
 */

export { gatewayBindPort } from '../model/gateway.js';

/** SDS name of a TLS Secret `NS/NAME` a listener terminates with (served to the gateway's own streams only). */
export function gatewaySecretName(key: string): string {
  return `kubernetes://${key}`;
}

/** The Secret key `NS/NAME` behind an SDS name of {@link gatewaySecretName}, or undefined for other names. */
export function gatewaySecretKey(sdsName: string): string | undefined {
  return sdsName.startsWith('kubernetes://') ? sdsName.slice('kubernetes://'.length) : undefined;
}

/** Envoy Listener name of a Gateway port. */
export function gatewayListenerName(port: number): string {
  return `gateway_${port}`;
}

/** RouteConfiguration name of the HTTP listeners of a port, or of one HTTPS listener. */
export function gatewayRouteName(port: number, listener?: GatewayListener): string {
  return listener ? `https.${port}.${listener.name}` : `http.${port}`;
}

/** The Gateway a gateway proxy serves, or undefined when the model has none of that name. */
export function gatewayOf(model: MeshModel, proxy: Pick<ProxyInfo, 'namespace' | 'gateway'>): MeshGateway | undefined {
  return (model.gateways ?? []).find((g) => g.name === proxy.gateway && g.namespace === proxy.namespace);
}

/** The HCM of a listener; `telemetry` is the proxy's tracing and access log (observability.ts), as sidecars get theirs. */
function hcm(statPrefix: string, routeName: string, model: MeshModel, telemetry: ProxyTelemetry['hcm']): Msg {
  return {
    '@type': T.hcm,
    stat_prefix: statPrefix,
    rds: { config_source: ADS, route_config_name: routeName },
    http_filters: httpFilters(model),
    ...telemetry,
    // The edge: the client address is the peer's, and a Host port does not change the virtual host.
    use_remote_address: { value: true },
    strip_any_host_port: true,
  };
}

/** One virtual host per hostname the listeners' routes serve there (`*`: any), domains unique as Envoy requires. */
function routeConfig(model: MeshModel, gw: MeshGateway, name: string, port: number, listeners: readonly GatewayListener[]): Msg {
  const names = new Set(listeners.map((l) => l.name));
  const byHost = new Map<string, MeshGateway['routes']>();
  for (const r of gw.routes) {
    const hosts = new Set(r.attachments.filter((a) => names.has(a.listener)).flatMap((a) => a.hostnames));
    for (const h of hosts) byHost.set(h, [...(byHost.get(h) ?? []), r]);
  }
  const virtualHosts = [...byHost.keys()].sort().map((h) => ({
    name: `${name}|${h}`,
    domains: [h],
    routes: ruleRoutes(model, byHost.get(h)!, port, 'sidecar', ''),
  }));
  return { name, virtual_hosts: virtualHosts };
}

function httpsChain(l: GatewayListener, model: MeshModel, telemetry: ProxyTelemetry['hcm']): Msg {
  const chain: Msg = {
    name: l.name,
    filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm(`gateway_${l.port}_${l.name}`, gatewayRouteName(l.port, l), model, telemetry) }],
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': T.downstreamTls,
        common_tls_context: {
          tls_certificate_sds_secret_configs: l.certificates.map((key) => ({ name: gatewaySecretName(key), sds_config: ADS })),
          alpn_protocols: ['h2', 'http/1.1'],
        },
      },
    },
  };
  if (l.hostname) chain.filter_chain_match = { server_names: [l.hostname] };
  return chain;
}

/**
 * Resources of the proxies of the Gateway a node names (PROXY_KIND=gateway, NAMESPACE,
 * GATEWAY_NAME). A Gateway the model does not have (deleted, or not of a mesh class) gets no
 * listeners: its proxies then serve nothing rather than stale routes.
 */
export function gatewayResources(model: MeshModel, proxy: ProxyInfo): Resources {
  const res = emptyResources();
  const gw = gatewayOf(model, proxy);
  if (!gw) return res;
  const telemetry = proxyTelemetry(model, { namespace: proxy.namespace, pod: proxy.pod });
  Object.assign(res[TYPE.cluster], telemetry.clusters);
  const programmed = gw.listeners.filter((l) => l.programmed);
  const ports = [...new Set(programmed.map((l) => l.port))].sort((a, b) => a - b);
  for (const port of ports) {
    const onPort = programmed.filter((l) => l.port === port);
    const name = gatewayListenerName(port);
    const listener: Msg = { name, address: { socket_address: { address: '0.0.0.0', port_value: gatewayBindPort(port) } }, traffic_direction: 'INBOUND' };
    if (onPort[0]!.protocol === 'HTTPS') {
      listener.listener_filters = [{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': T.tlsInspector } }];
      // Most specific server name first is Envoy's own order; the list order only keeps output stable.
      listener.filter_chains = onPort.map((l) => httpsChain(l, model, telemetry.hcm));
      for (const l of onPort) res[TYPE.route][gatewayRouteName(port, l)] = routeConfig(model, gw, gatewayRouteName(port, l), port, [l]);
    } else {
      listener.filter_chains = [{ name: `http.${port}`, filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm(`gateway_${port}`, gatewayRouteName(port), model, telemetry.hcm) }] }];
      res[TYPE.route][gatewayRouteName(port)] = routeConfig(model, gw, gatewayRouteName(port), port, onPort);
    }
    res[TYPE.listener][name] = listener;
  }
  // Clusters of every backend (and mirror) of the attached routes: mTLS with the gateway's identity.
  const keys = new Set<string>();
  for (const r of gw.routes) {
    for (const rule of r.rules) {
      for (const b of rule.backends) if (!b.unresolved) keys.add(b.service);
      for (const m of rule.mirrors ?? []) keys.add(m.service);
    }
  }
  addOutbound(model, model.services.filter((s) => keys.has(serviceKey(s))), res, true);
  return res;
}

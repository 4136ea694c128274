// The tag extraction mesh's proxies are configured with (bootstrap `stats_config`), which decides
// the Prometheus names and labels mesh's readers (src/metrics/envoy.ts), `mesh route`'s gates and
// the Grafana dashboards read.
//
// Envoy's default `envoy.cluster_name` extractor takes one dot-free token after `cluster.`
// (source/common/config/well_known_names.cc, `cluster.$.**`): the stats of the cluster
// `outbound|8080||web.shop.svc.cluster.local` would come out as
// `envoy_cluster_shop_svc_cluster_local_upstream_rq_total{envoy_cluster_name="outbound|8080||web"}`.
// A second extractor of the same name cannot fix that: Envoy keeps the first that matches
// (TagProducerImpl::produceTags), and the defaults are added first. So mesh turns the defaults
// off and lists the ones it keeps by name (a TagSpecifier without a regex takes Envoy's default
// regex for that name; an unknown name is a configuration error, so only names Envoy has had since
// 2019 are listed), with its own cluster-name regex that keeps in-cluster FQDNs whole (as Istio's
// bootstrap does).

/** The cluster name up to `.svc.cluster.local` when there is one, else up to the first dot. */
export const CLUSTER_NAME_TAG_REGEX = String.raw`^cluster\.((.+?(\..+?\.svc\.cluster\.local)?)\.)`;

/**
 * Envoy's default tag extractors mesh keeps (their regexes are Envoy's own). Stats of the families
 * left out (Mongo, DynamoDB, Redis, Thrift, ext_authz, local rate limit prefixes, TLS curves and
 * versions) keep their whole names in Prometheus.
 */
export const KEPT_DEFAULT_TAGS = [
  'envoy.response_code',
  'envoy.response_code_class',
  'envoy.http_conn_manager_prefix',
  'envoy.listener_address',
  'envoy.tcp_prefix',
  'envoy.virtual_host',
  'envoy.virtual_cluster',
  'envoy.rds_route_config',
  'envoy.http_user_agent',
  'envoy.fault_downstream_cluster',
  'envoy.grpc_bridge_service',
  'envoy.grpc_bridge_method',
  'envoy.ssl_cipher',
  'cipher_suite',
  'envoy.ratelimit_prefix',
  'envoy.worker_id',
] as const;

/** The bootstrap's `stats_config` (envoy.config.metrics.v3.StatsConfig). */
export function envoyStatsConfig(): { use_all_default_tags: boolean; stats_tags: { tag_name: string; regex?: string }[] } {
  return {
    use_all_default_tags: false,
    stats_tags: [{ tag_name: 'envoy.cluster_name', regex: CLUSTER_NAME_TAG_REGEX }, ...KEPT_DEFAULT_TAGS.map((tag_name) => ({ tag_name }))],
  };
}

import { createRequire } from 'node:module';
import { accessSync, constants } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import protobuf from 'protobufjs';

/** Type URLs of the xDS resource kinds we serve. */
export const TYPE = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

/** One of the resource type URLs in {@link TYPE}. */
export type TypeUrl = (typeof TYPE)[keyof typeof TYPE];

/** Push order that keeps Envoy and gRPC from referencing what they do not hold yet (CDS before EDS, LDS before RDS). */
export const TYPE_ORDER: readonly TypeUrl[] = [TYPE.cluster, TYPE.endpoint, TYPE.listener, TYPE.route, TYPE.secret];

/** Every .proto file whose messages we emit (directly or inside an Any). */
const FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/config/trace/v3/opentelemetry.proto',
  'envoy/config/trace/v3/zipkin.proto',
];

let cached: protobuf.Root | undefined;

/** Directory holding the Envoy/xds/udpa/googleapis/validate .proto trees shipped by @grpc/grpc-js-xds. */
export function protoDepsDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
}

/**
 * The protobufjs root with every Envoy type we emit, loaded once per process from the .proto files
 * (field names kept in snake_case, as Envoy's docs and JSON spell them). Synchronous and ~1 s the
 * first time; callers that care load it at start-up.
 */
export function envoyRoot(): protobuf.Root {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  for (const name of ['api', 'descriptor', 'source_context', 'type']) {
    const json = require(`protobufjs/google/protobuf/${name}.json`) as { nested: { google: { nested: { protobuf: { nested: protobuf.INamespace['nested'] } } } } };
    protobuf.common(name, json.nested.google.nested.protobuf.nested as Record<string, unknown>);
  }
  const deps = protoDepsDir();
  const includes = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d));
  const root = new protobuf.Root();
  const original = root.resolvePath.bind(root);
  root.resolvePath = (origin: string, target: string): string | null => {
    if (isAbsolute(target)) return target;
    for (const dir of includes) {
      const full = join(dir, target);
      try {
        accessSync(full, constants.R_OK);
        return full;
      } catch {
        continue;
      }
    }
    return original(origin, target);
  };
  root.loadSync(FILES, { keepCase: true });
  root.resolveAll();
  cached = root;
  return root;
}

/** The message type named by a type URL or a fully qualified name. */
export function messageType(typeUrlOrName: string): protobuf.Type {
  const name = typeUrlOrName.slice(typeUrlOrName.lastIndexOf('/') + 1);
  return envoyRoot().lookupType(name);
}

/** The admin and bootstrap .proto files behind Envoy's /config_dump (and the types its bootstrap embeds). */
const ADMIN_FILES = [
  'envoy/admin/v3/config_dump.proto',
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/config/grpc_credential/v3/file_based_metadata.proto',
  'envoy/extensions/filters/http/health_check/v3/health_check.proto',
];
let adminLoaded = false;

/**
 * Add envoy.admin.v3 (ConfigDump and its per-type dumps) and the bootstrap types to
 * {@link envoyRoot}, once per process, so {@link messageType}, toProto3Json and strictCheckJson
 * know them. Only `mesh proxy-config` needs them; the controller never loads them.
 */
export function loadAdminProtos(): protobuf.Root {
  const root = envoyRoot();
  if (adminLoaded) return root;
  root.loadSync(ADMIN_FILES.map((f) => join(protoDepsDir(), 'envoy-api', f)), { keepCase: true });
  root.resolveAll();
  adminLoaded = true;
  return root;
}

/** The message type of a plain message: the one its `@type` names (an Any's content), else `fallback`; undefined for a type not loaded. */
export function typeAt(v: Record<string, unknown>, fallback: protobuf.Type | undefined): protobuf.Type | undefined {
  if (typeof v['@type'] !== 'string') return fallback;
  try {
    return messageType(v['@type']);
  } catch {
    return undefined;
  }
}

// grpc-js-xds reads its feature switches when it loads: RBAC on xDS servers is behind this one.
process.env.GRPC_XDS_EXPERIMENTAL_RBAC = 'true';

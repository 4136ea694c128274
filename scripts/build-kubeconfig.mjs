// Run by `npm run build` (and npm test's pretest) after tsc: replaces dist/cluster/kubeconfig-lib.js
// (a re-export of client-node's KubeConfig) with an esbuild bundle of that class and what it
// imports, without the package's generated API models. client-node's config.js imports only
// createConfiguration and ServerConfiguration from its gen/index.js, but gen/index.js re-exports
// every model, whose module-level tables esbuild cannot drop; the bundle takes those two from
// their own files instead. The rest is the library's code unchanged. Why: docs/bench.md,
// "route canary". A build whose bundle would hold a model, or that lacks one of those exports,
// fails here instead of shipping a slow or broken client.
import { realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Real path: esbuild names importers by it (node_modules may be a link).
const lib = realpathSync(join(root, 'node_modules', '@kubernetes', 'client-node', 'dist'));

/** Bundle KubeConfig into `outfile` (default dist/cluster/kubeconfig-lib.js; tests bundle into their own folder). */
export async function bundleKubeConfig(outfile = join(root, 'dist', 'cluster', 'kubeconfig-lib.js')) {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    stdin: { contents: `export { KubeConfig } from ${JSON.stringify(join(lib, 'config.js'))};`, resolveDir: root, loader: 'js' },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // The CommonJS dependencies bundled (node-fetch, socks, ...) require node's own modules.
    banner: { js: "import { createRequire as __meshCreateRequire } from 'node:module';\nconst require = __meshCreateRequire(import.meta.url);" },
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
    plugins: [
      {
        name: 'client-node-gen-without-models',
        setup(build) {
          build.onResolve({ filter: /^\.\/gen\/index\.js$/ }, (args) => (args.importer === join(lib, 'config.js') ? { path: 'gen', namespace: 'mesh-gen' } : undefined));
          build.onLoad({ filter: /.*/, namespace: 'mesh-gen' }, () => ({
            contents: `export { createConfiguration } from './gen/configuration.js';\nexport { ServerConfiguration } from './gen/servers.js';\n`,
            resolveDir: lib,
            loader: 'js',
          }));
        },
      },
    ],
  });
  const models = Object.keys(result.metafile.inputs).filter((p) => p.includes('/gen/models/') || p.includes('/gen/apis/'));
  if (models.length > 0) throw new Error(`kubeconfig bundle: ${models.length} generated models/APIs got in (e.g. ${models[0]}); client-node's imports changed`);
  // tsc's source map described the re-export, not the bundle.
  rmSync(`${outfile}.map`, { force: true });
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleKubeConfig();

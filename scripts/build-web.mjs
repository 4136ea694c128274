// Bundles the dashboard page (web/) into dist/dashboard/web/ with esbuild: app.js (the page with
// cytoscape and uPlot inside, minified, no CDN), app.css (uPlot's stylesheet, then ours) and
// index.html. `npm run build` runs it after tsc; tests call buildWeb() into their own folder.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Build the page into `outDir` (default dist/dashboard/web); returns the bytes of each file. */
export async function buildWeb({ outDir = join(root, 'dist', 'dashboard', 'web') } = {}) {
  const esbuild = await import('esbuild');
  await mkdir(outDir, { recursive: true });
  await esbuild.build({
    entryPoints: [join(root, 'web', 'app.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    legalComments: 'eof',
    logLevel: 'warning',
  });
  const css = (await readFile(join(root, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), 'utf8')) + '\n' + (await readFile(join(root, 'web', 'app.css'), 'utf8'));
  await writeFile(join(outDir, 'app.css'), css);
  await copyFile(join(root, 'web', 'index.html'), join(outDir, 'index.html'));
  const sizes = {};
  for (const f of ['index.html', 'app.js', 'app.css']) sizes[f] = (await readFile(join(outDir, f))).length;
  return sizes;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sizes = await buildWeb();
  process.stderr.write(`dashboard page: ${Object.entries(sizes).map(([f, n]) => `${f} ${(n / 1024).toFixed(1)} KiB`).join(', ')}\n`);
}

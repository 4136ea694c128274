// `npm test`'s pretest: dist/ (what bin/mesh runs) from the suite's compile (.test-build/src, made
// by scripts/build-tests.mjs), instead of compiling src/ a second time with `tsc -p tsconfig.json`:
// the emitted JavaScript is the same (src imports with .js, so rewriteRelativeImportExtensions
// changes nothing there); only the source maps, one folder deeper, name their sources with one
// "../" more, which is taken off. `npm run build` still compiles dist/ on its own.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { find } from './build-tests.mjs';

const FROM = join('.test-build', 'src');
for (const file of [...find(FROM, '.js'), ...find(FROM, '.js.map')]) {
  const to = join('dist', relative(FROM, file));
  mkdirSync(dirname(to), { recursive: true });
  if (!file.endsWith('.map')) {
    copyFileSync(file, to);
    continue;
  }
  const map = JSON.parse(readFileSync(file, 'utf8'));
  map.sources = map.sources.map((s) => s.replace(/^\.\.\//, ''));
  writeFileSync(to, JSON.stringify(map));
}

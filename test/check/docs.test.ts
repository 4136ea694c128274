import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_CODES } from '../../src/analyzers/index.ts';
import { postInstallCatalog, preInstallCatalog } from '../../src/checks/index.ts';
import { ROOT } from '../support/cli.ts';

const doc = readFileSync(join(ROOT, 'docs/checks.md'), 'utf8');
const anchors = new Set([...doc.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]));

test('docs/checks.md has an anchor for every check hint and every finding code', () => {
  for (const c of [...preInstallCatalog(), ...postInstallCatalog()]) assert.ok(anchors.has(c.hintAnchor), `no <a id="${c.hintAnchor}"> for ${c.id}`);
  for (const c of ALL_CODES) {
    assert.ok(anchors.has(c.code.toLowerCase()), `no anchor for ${c.code}`);
    assert.match(doc, new RegExp(`### ${c.code}: ${c.title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(${c.severity}\\)`), `${c.code} heading must state its title and severity`);
  }
});

test('check ids are unique within each catalog', () => {
  for (const cat of [preInstallCatalog(), postInstallCatalog()]) {
    const ids = cat.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAYERS } from '../../src/layers.js';
import { checkLayers, findCycles, readImports } from './imports.js';

// the TypeScript sources (the tests run from dist/test/architecture)
const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src');
const names = LAYERS.map((l) => l.name);

test('every import under src/ points to its own layer or one below it', () => {
  const edges = readImports(SRC);
  assert.ok(edges.length > 300, `read only ${edges.length} imports from ${SRC}`);
  const problems = checkLayers(edges, names);
  assert.deepEqual(problems, [], `imports against the layer order (src/layers.ts):\n${problems.join('\n')}`);
});

test('no file imports itself through a cycle', () => {
  const cycles = findCycles(readImports(SRC));
  assert.deepEqual(cycles, [], `import cycles:\n${cycles.join('\n')}`);
});

test('the checker names the file and line of an upward import, an unknown layer and a cycle', () => {
  const root = mkdtempSync(join(tmpdir(), 'layers-'));
  const put = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  put('low/a.ts', "// low\nimport { b } from '../high/b.js';\nexport const a = 1;\n");
  put('high/b.ts', "import { a } from '../low/a.js';\nexport const b = a;\n");
  put('odd/c.ts', "export { a } from '../low/a.js';\nconst w = new URL('../high/b.js', import.meta.url);\n");
  const edges = readImports(root);
  assert.equal(edges.length, 4);
  const problems = checkLayers(edges, ['low', 'high']);
  const upward = "src/low/a.ts:2: imports ../high/b.js: 'low' (layer 1) may not import 'high' (layer 2), which is above it";
  assert.ok(problems.includes(upward), problems.join('\n'));
  assert.deepEqual(problems.filter((p) => p.startsWith('src/odd/')), [
    "src/odd/c.ts:1: 'odd' is not a declared layer (add it to src/layers.ts)",
    "src/odd/c.ts:2: 'odd' is not a declared layer (add it to src/layers.ts)",
  ]);
  assert.equal(problems.length, 3);
  assert.deepEqual(findCycles(edges), ['src/high/b.ts:1: high/b.ts -> low/a.ts -> high/b.ts']);
});

// What a browser tab will run: the GPT, the inference engine and the webgpu backend, with everything they import
// statically. None of it may import a Node module (node:*, a bare builtin) or Dawn (the `webgpu` package): in a
// tab, navigator.gpu takes Dawn's place. Dynamic imports (initBackend's Dawn loader) run only when called.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src');
const ENTRIES = ['model/gpt.ts', 'engine/engine.ts', 'engine/decode-batch.ts', 'tensor/webgpu/backend.ts'];
// static imports and re-exports with a value (not `import type`); the specifier and whether it is relative
const STATIC = /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\bfrom\s*)?(['"])([^'"]+)\1/gm;

/** Every module reached from the entries by static value imports, with the first importer of each external one. */
function staticGraph(): { files: string[]; external: Map<string, string> } {
  const seen = new Set<string>(), external = new Map<string, string>(), todo = [...ENTRIES];
  while (todo.length) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(join(src, file), 'utf8');
    for (const m of text.matchAll(STATIC)) {
      const spec = m[2];
      if (spec.startsWith('.')) todo.push(normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts'));
      else if (!external.has(spec)) external.set(spec, file);
    }
  }
  return { files: [...seen].sort(), external };
}

test('the model, the engine and the webgpu backend import no Node module and not Dawn, however deep', () => {
  const { files, external } = staticGraph();
  assert.ok(files.includes('tensor/ops.ts') && files.includes('tensor/backends.ts'), 'the walk follows the imports');
  const node = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const bad = [...external].filter(([spec]) => node.has(spec) || spec.startsWith('node:') || spec === 'webgpu');
  assert.deepEqual(bad.map(([spec, by]) => `${by} imports ${spec}`), []);
});

test('the walk would catch one: a static node import in a reached file is found', () => {
  const text = "import { x } from './a.js';\nimport type { T } from 'node:fs';\nexport { y } from 'node:path';\n";
  const specs = [...text.matchAll(STATIC)].map((m) => m[2]);
  assert.deepEqual(specs, ['./a.js', 'node:path']);
});

// Reads the imports of every TypeScript file under a source folder and checks them against a layer
// order: an import may point to its own layer or a lower one; an upward arrow, a file outside every
// layer and a cycle between files are reported with the file and the line.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

export interface ImportEdge {
  from: string; // path relative to the source folder, e.g. 'eval/bpb.ts'
  line: number;
  spec: string;
  to: string;
}

// static `import ... from '...'` / `export ... from '...'`, dynamic `import('...')`, worker `new URL('...')`
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|new URL\(\s*)(['"])(\.{1,2}\/[^'"]+)\1/g;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const f = join(dir, n);
    return statSync(f).isDirectory() ? tsFiles(f) : n.endsWith('.ts') ? [f] : [];
  });
}

/** Every relative import of every .ts file under root, resolved to a path under root. */
export function readImports(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of tsFiles(root)) {
    const from = relative(root, file).split(sep).join('/');
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const line = text.slice(0, m.index).split('\n').length;
      const to = normalize(join(dirname(from), m[2])).split(sep).join('/').replace(/\.js$/, '.ts');
      edges.push({ from, line, spec: m[2], to });
    }
  }
  return edges;
}

/** A file's layer: its folder under the source root, or its own name for a file at the root. */
export const layerOf = (path: string): string => (path.includes('/') ? path.split('/')[0] : path.replace(/\.ts$/, ''));

/** Problems with the import graph, one line each: 'file:line ...'. Empty when every arrow points down. */
export function checkLayers(edges: ImportEdge[], layers: readonly string[], exempt: readonly string[] = []): string[] {
  const rank = new Map(layers.map((l, i) => [l, i]));
  const problems: string[] = [];
  for (const e of edges) {
    const a = layerOf(e.from), b = layerOf(e.to);
    if (exempt.includes(e.from) || a === b) continue;
    const ra = rank.get(a), rb = rank.get(b);
    const at = `src/${e.from}:${e.line}`;
    if (ra === undefined) problems.push(`${at}: '${a}' is not a declared layer (add it to src/layers.ts)`);
    else if (rb === undefined) problems.push(`${at}: imports ${e.spec}, whose layer '${b}' is not declared in src/layers.ts`);
    else if (rb > ra) {
      problems.push(`${at}: imports ${e.spec}: '${a}' (layer ${ra + 1}) may not import '${b}' (layer ${rb + 1}), which is above it`);
    }
  }
  return problems;
}

/** Cycles between files (each as 'a.ts -> b.ts -> a.ts', with the line of the first import). */
export function findCycles(edges: ImportEdge[]): string[] {
  const out = new Map<string, ImportEdge[]>();
  for (const e of edges) out.set(e.from, [...(out.get(e.from) ?? []), e]);
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const stack: ImportEdge[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    for (const e of out.get(f) ?? []) {
      const s = state.get(e.to);
      if (s === 'open') {
        const start = stack.findIndex((x) => x.from === e.to);
        const loop = [...stack.slice(start < 0 ? stack.length : start), e];
        cycles.push(`src/${loop[0].from}:${loop[0].line}: ${loop.map((x) => x.from).join(' -> ')} -> ${e.to}`);
      } else if (s === undefined) {
        stack.push(e);
        visit(e.to);
        stack.pop();
      }
    }
    state.set(f, 'done');
  };
  for (const f of [...out.keys()].sort()) if (!state.has(f)) visit(f);
  return cycles;
}

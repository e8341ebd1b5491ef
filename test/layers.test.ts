/**
 * The source tree's imports run one way. `src/` is laid out in layers, lowest first:
 *
 *   core/     values and compiled definitions
 *   runtime/  the call runtime
 *   define/   definition time: decorators compiled into plans
 *   read/     readers of the compiled definitions: introspection, diagrams, CLI
 *   top       files directly in src/ (the `State` facade, the entry points, the store seam) and the
 *             adapters (mikro-orm/, and admin/, the web view over them)
 *
 * A module may import its own layer or a lower one, never a higher one, and no chain of imports
 * (type-only ones included) may lead back to where it started.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { posix } from 'node:path';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

const LAYERS = ['core', 'runtime', 'define', 'read', 'top'] as const;
/** Subdirectories of src/ and their layer; files directly in src/ are top. */
const DIRECTORIES: Record<string, (typeof LAYERS)[number]> = {
  core: 'core',
  runtime: 'runtime',
  define: 'define',
  read: 'read',
  'mikro-orm': 'top',
  admin: 'top',
};

/** `runtime/call.ts` → its layer's rank (0 = core), or a message if the file is in no layer. */
function layerOf(file: string): number | string {
  const slash = file.indexOf('/');
  if (slash === -1) return LAYERS.indexOf('top');
  const dir = file.slice(0, slash);
  const layer = DIRECTORIES[dir];
  return layer === undefined ? `src/${dir}/ is in no layer: add it to DIRECTORIES in test/layers.test.ts` : LAYERS.indexOf(layer);
}

/**
 * The relative specifiers a module imports or re-exports: `import`, `import type`, side-effect
 * imports, `export ... from`, and `import('./x')` (a dynamic import or an `import()` type).
 */
function relativeImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\b[^;'"`]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/g,
    /\bimport\s*['"](\.{1,2}\/[^'"]+)['"]/g,
    /\bimport\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of code.matchAll(pattern)) found.push(m[1]!);
  return found;
}

/** One cycle of `graph` as a path that ends where it starts (`a → b → a`), or `undefined`. */
function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (node: string): string[] | undefined => {
    if (onPath.has(node)) return [...path.slice(path.indexOf(node)), node];
    if (done.has(node)) return undefined;
    path.push(node);
    onPath.add(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    onPath.delete(node);
    done.add(node);
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Every import that goes from a lower layer to a higher one, or from or to a file in no layer. */
function upwardImports(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const a = layerOf(from);
      const b = layerOf(to);
      if (typeof a === 'string') out.push(`src/${from}: ${a}`);
      else if (typeof b === 'string') out.push(`src/${from} imports src/${to}: ${b}`);
      else if (b > a) out.push(`src/${from} (${LAYERS[a]}) imports src/${to} (${LAYERS[b]}), a higher layer`);
    }
  }
  return [...new Set(out)];
}

/** src/'s import graph: each `.ts` file (relative to src/) → the src/ files it imports. */
function sourceGraph(): { graph: Map<string, string[]>; unresolved: string[] } {
  const files = (readdirSync(SRC, { recursive: true }) as string[]).map((f) => f.split('\\').join('/')).filter((f) => f.endsWith('.ts'));
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  const unresolved: string[] = [];
  for (const file of files) {
    const targets: string[] = [];
    for (const spec of relativeImports(readFileSync(SRC + file, 'utf8'))) {
      const target = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts');
      if (known.has(target)) targets.push(target);
      else if (!target.startsWith('../')) unresolved.push(`src/${file} imports ${spec}, which is no .ts file in src/`);
      // '../package.json' and the like: outside src/, not part of the graph.
    }
    graph.set(file, targets);
  }
  return { graph, unresolved };
}

test('src/ has no import cycle, type-only imports included', () => {
  const { graph, unresolved } = sourceGraph();
  assert.deepEqual(unresolved, []);
  assert.ok(graph.size > 20, `expected the whole of src/, read ${graph.size} files`);
  assert.ok(graph.get('index.ts')?.includes('state.ts'), 'the reader sees index.ts → state.ts (is the import scan blind?)');
  const cycle = findCycle(graph);
  assert.equal(cycle, undefined, `import cycle: ${cycle?.map((f) => `src/${f}`).join(' → ')}`);
});

test('src/ imports run down the layers: core < runtime < define < read < top', () => {
  const { graph } = sourceGraph();
  assert.deepEqual(upwardImports(graph), []);
});

test('the cycle finder names the cycle it finds', () => {
  const acyclic = new Map([
    ['a.ts', ['b.ts', 'c.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', []],
  ]);
  assert.equal(findCycle(acyclic), undefined);
  const cyclic = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['d.ts', 'b.ts']],
    ['d.ts', []],
  ]);
  assert.deepEqual(findCycle(cyclic), ['b.ts', 'c.ts', 'b.ts']);
  assert.deepEqual(findCycle(new Map([['self.ts', ['self.ts']]])), ['self.ts', 'self.ts']);
});

test('the layer rule flags an import from a lower layer to a higher one, and files in no layer', () => {
  const graph = new Map([
    ['runtime/access.ts', ['state.ts', 'core/errors.ts']],
    ['read/diagram.ts', ['runtime/access.ts']],
    ['state.ts', ['read/diagram.ts']],
    ['stray/x.ts', []],
    ['core/errors.ts', ['stray/x.ts']],
  ]);
  assert.deepEqual(upwardImports(graph), [
    'src/runtime/access.ts (runtime) imports src/state.ts (top), a higher layer',
    'src/core/errors.ts imports src/stray/x.ts: src/stray/ is in no layer: add it to DIRECTORIES in test/layers.test.ts',
  ]);
});

test('the import scan sees every form of import and re-export, and no comment', () => {
  const source = `
    import './core/metadata.ts';
    import { a, type B } from './a.ts';
    import type {
      C,
      D,
    } from '../c.ts';
    import * as e from './e.ts';
    export { f } from './f.ts';
    export type { G } from './g.ts';
    export * from './h.ts';
    const i = await import('./i.ts');
    type J = typeof import('./j.ts');
    import { readFileSync } from 'node:fs';
    const url = new URL('../package.json', import.meta.url);
    // import { k } from './k.ts';
    /** import { l } from './l.ts'; */
  `;
  assert.deepEqual(relativeImports(source).sort(), ['../c.ts', './a.ts', './core/metadata.ts', './e.ts', './f.ts', './g.ts', './h.ts', './i.ts', './j.ts'].sort());
});

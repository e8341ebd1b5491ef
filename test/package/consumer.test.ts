/**
 * The package as a user gets it: `npm pack`, installed from the tarball into a temporary project,
 * compiled there with each TypeScript the README promises (5.2, the oldest, for `transitional`;
 * 5.8, MikroORM 7's oldest, for `transitional/mikro-orm`; and TypeScript 7), in both decorator
 * modes, as ESM and as CommonJS (`module: commonjs`, `moduleResolution: node10`, the NestJS
 * default), with `skipLibCheck: false` so that our own `.d.ts` files are checked too; then run on
 * Node. Offline: the compilers are devDependencies (`typescript-5.2`, `typescript-5.8` are npm
 * aliases) and the MikroORM packages are linked from this repository's node_modules.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = join(root, 'test/package/consumer');
const compilers = {
  '5.2': join(root, 'node_modules/typescript-5.2/bin/tsc'),
  '5.8': join(root, 'node_modules/typescript-5.8/bin/tsc'),
  '7': join(root, 'node_modules/typescript/bin/tsc'),
} as const;
const deadline = 90_000;

/** What test/package/consumer/flows.ts prints, whatever compiled it. */
const flowsOutput = {
  stage: 'hidden',
  notes: ['guest: first!', 'looks good'],
  refusedSource: 'source in review',
  refusedCondition: 'condition in review',
  badInput: 'input: a note is required',
  comments: 2,
  canPublish: false,
  available: ['Publish', 'Comment', 'Hide'],
  mayPublish: false,
  failed: 'error: printer on fire',
  events: [
    'before submit new->review',
    'after submit',
    'before comment review->review',
    'after comment',
    'before publish review->published',
    'error publish: printer on fire',
    'after publish',
  ],
  names: ['comment', 'hide', 'publish', 'submit'],
  light: 'on',
  later: 3,
  dotLines: 12,
};

/** What test/package/consumer/persisted.ts prints. */
const persistedOutput = {
  status: 'shipped',
  paidWith: 'card',
  refused: 'source',
  events: ['placed->paid', 'paid->shipped'],
  history: ['pay placed->paid by consumer', 'ship paid->shipped by consumer'],
};

/** What test/package/consumer/main-subpath.ts prints. */
const subpathOutput = { history: 'function', persistTransitions: 'function', TransitionLog: 'TransitionLog', options: 0, admin: ['function', 'function', 'function', 2] };

const outputs = { 'main-flows': flowsOutput, 'main-persisted': persistedOutput, 'main-subpath': subpathOutput } as const;

interface Case {
  readonly name: string;
  readonly ts: keyof typeof compilers;
  readonly project: 'esm' | 'cjs';
  readonly module: 'nodenext' | 'commonjs';
  readonly experimentalDecorators: boolean;
  readonly entries: readonly (keyof typeof outputs)[];
  readonly skipLibCheck?: boolean;
}

const core = ['main-flows'] as const;
const all = ['main-flows', 'main-persisted'] as const;
/** With the subpaths' own entry (transitional/admin's declarations checked too). */
const withSubpaths = ['main-flows', 'main-persisted', 'main-subpath'] as const;

// Every compiler in both decorator modes; CommonJS (orthogonal to the mode) once per compiler.
const cases: Case[] = [
  { name: 'TypeScript 5.2, ESM, standard decorators', ts: '5.2', project: 'esm', module: 'nodenext', experimentalDecorators: false, entries: core },
  { name: 'TypeScript 5.2, ESM, experimentalDecorators', ts: '5.2', project: 'esm', module: 'nodenext', experimentalDecorators: true, entries: core },
  { name: 'TypeScript 5.2, CommonJS (node10 resolution), experimentalDecorators', ts: '5.2', project: 'cjs', module: 'commonjs', experimentalDecorators: true, entries: core },
  { name: 'TypeScript 5.8, ESM, standard decorators, with transitional/mikro-orm and transitional/admin', ts: '5.8', project: 'esm', module: 'nodenext', experimentalDecorators: false, entries: withSubpaths },
  // MikroORM 7's own declarations need node16/nodenext resolution (under node10 its subpath
  // imports do not resolve): a CommonJS project that uses it compiles with module nodenext.
  // (Library checks skipped: the ESM case above checks the same declarations, in half the time.)
  { name: 'TypeScript 5.8, CommonJS (nodenext), experimentalDecorators, with transitional/mikro-orm', ts: '5.8', project: 'cjs', module: 'nodenext', experimentalDecorators: true, entries: all, skipLibCheck: true },
  // Under node10 (a NestJS tsconfig: commonjs, skipLibCheck) the subpath's types resolve too.
  { name: 'TypeScript 5.8, CommonJS (node10, NestJS-style), experimentalDecorators, transitional/mikro-orm and transitional/admin resolve', ts: '5.8', project: 'cjs', module: 'commonjs', experimentalDecorators: true, entries: ['main-flows', 'main-subpath'], skipLibCheck: true },
  { name: 'TypeScript 7, ESM, standard decorators, with transitional/mikro-orm and transitional/admin', ts: '7', project: 'esm', module: 'nodenext', experimentalDecorators: false, entries: withSubpaths },
  { name: 'TypeScript 7, ESM, experimentalDecorators, with transitional/mikro-orm', ts: '7', project: 'esm', module: 'nodenext', experimentalDecorators: true, entries: all },
  // TypeScript 7 has no node10 resolution: a CommonJS project uses nodenext in a package without "type": "module".
  { name: 'TypeScript 7, CommonJS (nodenext), standard decorators, with transitional/mikro-orm', ts: '7', project: 'cjs', module: 'nodenext', experimentalDecorators: false, entries: all },
];

let dir: string;
let packedFiles: string[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'transitional-consumer-'));
  // The build is fresh: npm test builds first, so pack what is in dist/ without building again.
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, timeout: deadline });
  const [{ filename, files }] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  packedFiles = files.map((f) => f.path);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', join(dir, filename)], { cwd: dir, timeout: deadline });
  // The optional peers a user installs next to it, and Node's types, from this repository.
  await mkdir(join(dir, 'node_modules/@mikro-orm'), { recursive: true });
  await mkdir(join(dir, 'node_modules/@types'), { recursive: true });
  for (const name of ['@mikro-orm/core', '@mikro-orm/sql', '@types/node']) await symlink(join(root, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
  for (const project of ['esm', 'cjs'] as const) {
    await mkdir(join(dir, project, 'src'), { recursive: true });
    await writeFile(join(dir, project, 'package.json'), JSON.stringify({ type: project === 'esm' ? 'module' : 'commonjs' }));
    for (const file of ['flows.ts', 'main-flows.ts', 'persisted.ts', 'main-persisted.ts', 'main-subpath.ts']) await cp(join(fixtures, file), join(dir, project, 'src', file));
  }
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Compiles the case's entry points in its project into `out`. */
async function compile(c: Case, out: string): Promise<void> {
  const config = {
    compilerOptions: {
      target: 'es2022',
      module: c.module,
      moduleResolution: c.module === 'commonjs' ? 'node10' : 'nodenext',
      ...(c.module === 'commonjs' ? { esModuleInterop: true } : {}),
      strict: true,
      experimentalDecorators: c.experimentalDecorators,
      skipLibCheck: c.skipLibCheck ?? false,
      types: ['node'],
      rootDir: 'src',
      outDir: out,
    },
    files: c.entries.map((entry) => `src/${entry}.ts`),
  };
  const file = join(dir, c.project, `tsconfig.${out}.json`);
  await writeFile(file, JSON.stringify(config, null, 2));
  try {
    await run(process.execPath, [compilers[c.ts], '-p', file], { cwd: join(dir, c.project), timeout: deadline });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    assert.fail(`tsc ${c.ts} failed for ${c.name}:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

async function runEntry(c: Case, out: string, entry: string): Promise<unknown> {
  const { stdout } = await run(process.execPath, [join(dir, c.project, out, entry)], { cwd: join(dir, c.project), timeout: deadline });
  return JSON.parse(stdout);
}

test('the tarball holds the build, the sources its maps point to, the license and the docs; no tests', () => {
  for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/mikro-orm/index.d.ts', 'dist/admin/index.js', 'dist/admin/index.d.ts', 'dist/bin.js', 'src/index.ts']) {
    assert.ok(packedFiles.includes(file), `${file} is missing from the tarball`);
  }
  assert.deepEqual(packedFiles.filter((f) => f.startsWith('test/') || f.startsWith('examples/') || f.startsWith('bench/')), []);
});

describe('the packed package in a consumer project', { concurrency: 2 }, () => {
  cases.forEach((c, i) => {
    test(c.name, { timeout: deadline * 2 }, async () => {
      const out = `out-${i}`;
      await compile(c, out);
      if (c.project === 'cjs') {
        // Really CommonJS: the package, an ES module, is loaded with require() (Node >= 22.12).
        const emitted = await readFile(join(dir, c.project, out, 'flows.js'), 'utf8');
        assert.match(emitted, /require\("transitional"\)/);
      }
      for (const entry of c.entries) assert.deepEqual(await runEntry(c, out, `${entry}.js`), outputs[entry], entry);
    });
  });
});

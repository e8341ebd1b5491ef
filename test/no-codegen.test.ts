/**
 * The core behaviour suites once more, in a process started with
 * `--disallow-code-generation-from-strings` (as under a strict Content Security Policy): there the
 * wrapper cannot compile a fresh copy of its factory per method (`new Function`, see
 * src/runtime/wrapper.ts) and falls back to the shared one, which must behave the same.
 * The suites run in that one process (`--test-isolation=none`), next to a probe that checks code
 * generation really is disallowed there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../', import.meta.url));

/** The suites to run again: core semantics, lifecycle, and the decorator-mode behaviour suite. */
function suites(): string[] {
  const inDir = (dir: string) => readdirSync(join(root, dir)).filter((f) => f.endsWith('.test.ts')).map((f) => `${dir}/${f}`);
  return [...inDir('test/core'), ...inDir('test/lifecycle'), 'test/modes/standard.test.ts'];
}

test('the core suites pass with code generation from strings disallowed (the wrapper\'s fallback)', () => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A child that inherits NODE_TEST_CONTEXT believes it is nested and silently runs nothing.
  delete env.NODE_TEST_CONTEXT;
  const files = suites();
  const child = spawnSync(
    join(root, 'node_modules/.bin/node'),
    ['--disallow-code-generation-from-strings', '--import', 'tsx', '--test', '--test-isolation=none', '--test-reporter=tap', ...files, 'test/no-codegen/probe.ts'],
    { cwd: root, env, encoding: 'utf8', timeout: 120_000 },
  );
  const output = `${child.stdout}\n${child.stderr}`;
  assert.equal(child.error, undefined, `could not run the suites: ${String(child.error)}`);
  assert.equal(child.status, 0, `the suites failed without code generation (exit ${child.status}, signal ${child.signal}):\n${output.slice(-8000)}`);
  assert.match(child.stdout, /^\s*ok \d+ - code generation from strings is disallowed in this process$/m, 'the probe ran and passed');
  const passed = Number(/^# pass (\d+)$/m.exec(child.stdout)?.[1] ?? 0);
  const failed = Number(/^# fail (\d+)$/m.exec(child.stdout)?.[1] ?? -1);
  assert.equal(failed, 0, output.slice(-8000));
  assert.ok(passed >= 300, `expected the whole of ${files.length} suites to run, ${passed} tests passed`);
});

/**
 * The README's quick start is examples/quick-start.ts, verbatim, and it runs: so the first code a
 * user copies can never drift from code the suite executes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const root = new URL('..', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const quickStart = readFileSync(new URL('examples/quick-start.ts', root), 'utf8');

test('the README quick start is examples/quick-start.ts verbatim', () => {
  const section = readme.slice(readme.indexOf('## Quick start'));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'no ```ts block under "## Quick start"');
  assert.equal(block, quickStart);
});

test('the quick start runs as written and prints what its comments say', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/quick-start.ts'], { cwd: root, encoding: 'utf8' });
  const lines = out.trim().split('\n');
  assert.equal(lines[0], 'review');
  assert.match(lines[1]!, /^condition ReviewFlow\.publish\(\) is not allowed from "review"/);
  assert.equal(lines[2], "[ 'Fast track', 'Remove' ]");
  assert.equal(lines[3], "{ stage: 'published', approver: 'guest-system' }");
});

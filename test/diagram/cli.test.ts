/**
 * The `transitional` CLI, run as a subprocess through the package's `bin` (dist/bin.js, what ships),
 * on the Node that runs the tests.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { toDot, toMermaid } from 'transitional';
import { delivery, Order, TrafficLight } from './fixtures/flows.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('package.json', `file://${root}`), 'utf8')) as { bin: Record<string, string>; version: string };
const bin = fileURLToPath(new URL(pkg.bin['transitional']!, `file://${root}`));
const FLOWS = 'test/diagram/fixtures/flows.ts';

function cli(...args: string[]) {
  const env = { ...process.env };
  delete env['NODE_TEST_CONTEXT'];
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('transitional diagram', () => {
  test('prints the Mermaid diagram by default', () => {
    const r = cli('diagram', `${FLOWS}#TrafficLight`);
    assert.deepEqual(r, { code: 0, stdout: toMermaid(TrafficLight) + '\n', stderr: '' });
  });

  test('--format dot prints the DOT diagram; --state picks the State by name', () => {
    assert.deepEqual(cli('diagram', `${FLOWS}#TrafficLight`, '--format', 'dot'), { code: 0, stdout: toDot(TrafficLight) + '\n', stderr: '' });
    assert.deepEqual(cli('diagram', `${FLOWS}#Order`, '--state', 'delivery', '--format=dot'), { code: 0, stdout: toDot(Order, delivery) + '\n', stderr: '' });
    assert.deepEqual(cli('diagram', '-f', 'mermaid', `${FLOWS}#Order`, '--state=delivery'), { code: 0, stdout: toMermaid(Order, delivery) + '\n', stderr: '' });
  });

  test('without #export, the module\'s default export', () => {
    assert.deepEqual(cli('diagram', FLOWS), { code: 0, stdout: toMermaid(TrafficLight) + '\n', stderr: '' });
  });

  test('a JavaScript module loads too', () => {
    const r = cli('diagram', 'test/diagram/fixtures/lamp.mjs#Lamp', '--format', 'dot');
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, ['digraph {', '"off" [label="off"];', '"on" [label="on"];', '"off" -> "on" [label="Turn on"];', '"on" -> "off" [label="Turn off"];', '}', ''].join('\n'));
    assert.equal(r.code, 0);
  });

  test('the quick-start example draws (examples/review-flow.ts, inherited transitions included)', () => {
    const r = cli('diagram', 'examples/review-flow.ts#GuestReviewFlow');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^stateDiagram-v2\n {4}\[\*\] --> new\n/);
    assert.match(r.stdout, /\n {4}new --> published: Fast track\n/);
  });
});

describe('transitional transitions', () => {
  test('prints a table: name, label, sources, target, on error, conditions, permission', () => {
    const r = cli('transitions', `${FLOWS}#Door`);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.equal(
      r.stdout,
      [
        'name   label       sources         target       on error  conditions  permission',
        'close  Close       open            closed       -         0           no',
        'force  Force open  closed, locked  open         -         0           no',
        'lock   Lock        any             locked       -         0           no',
        'knock  Knock       any             (unchanged)  -         0           no',
        '',
      ].join('\n'),
    );
  });

  test('conditions are counted and named when they have names; --state picks the State', () => {
    const r = cli('transitions', `${FLOWS}#Order`, '--state', 'delivery');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      ['name  label  sources  target   on error  conditions  permission', 'ship  Ship   waiting  shipped  -         2 (isPaid)  no', ''].join('\n'),
    );
  });

  test('permission: yes when the transition has one', () => {
    const r = cli('transitions', 'test/diagram/fixtures/guarded.ts#Vault');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^open +Open +closed +opened +- +0 +yes$/m);
    assert.match(r.stdout, /^close +Close +opened +closed +- +0 +no$/m);
  });
});

describe('help', () => {
  for (const args of [['--help'], ['-h'], ['diagram', '--help'], ['transitions', '-h']]) {
    test(`transitional ${args.join(' ')}`, () => {
      const r = cli(...args);
      assert.equal(r.code, 0);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, args.length === 1 ? /^Usage: transitional <command>/ : new RegExp(`^Usage: transitional ${args[0]} <module>#<export>`));
    });
  }
  test('the general help says what a command\'s --help shows', () => {
    assert.match(cli('--help').stdout, /`transitional <command> --help` shows a command's\s+options and examples\n/);
  });
  test('--version', () => {
    assert.deepEqual(cli('--version'), { code: 0, stdout: pkg.version + '\n', stderr: '' });
  });
});

describe('bad input: one line on stderr, exit code 2, no stack trace', () => {
  const cases: [string, string[], RegExp][] = [
    ['a module that does not exist', ['diagram', 'nope/missing.ts#X'], /cannot find module nope\/missing\.ts/],
    ['a missing export', ['diagram', `${FLOWS}#TrafficLite`], /has no export named "TrafficLite" \(its exports: .*TrafficLight/],
    ['an export that is a number', ['diagram', `${FLOWS}#answer`], /flows\.ts#answer is not a flow class \(it is a number\)/],
    ['an export that is a plain object', ['diagram', `${FLOWS}#settings`], /flows\.ts#settings is not a flow class \(it is an object\)/],
    ['an export that is a State', ['diagram', `${FLOWS}#light`], /flows\.ts#light is not a flow class \(it is a State; pass the class/],
    ['a class that is not a flow class', ['transitions', `${FLOWS}#Plain`], /flows\.ts#Plain is not a flow class \(it declares no State/],
    ['several States and no --state', ['diagram', `${FLOWS}#Order`], /Order uses 2 States \(payment, delivery\): choose one with --state <name>/],
    ['several States and no --state (transitions)', ['transitions', `${FLOWS}#Order`], /Order uses 2 States \(payment, delivery\)/],
    ['an unknown --state', ['diagram', `${FLOWS}#Order`, '--state', 'shipping'], /Order has no State named "shipping" \(its States: payment, delivery\)/],
    ['two States with the same name', ['diagram', `${FLOWS}#Unnamed`, '--state', 'state'], /Unnamed has 2 States named "state": give them distinct names/],
    ['an unknown format', ['diagram', `${FLOWS}#TrafficLight`, '--format', 'svg'], /unknown format "svg" \(expected mermaid or dot\)/],
    ['an unknown command', ['draw', `${FLOWS}#TrafficLight`], /unknown command "draw" \(expected diagram, transitions or admin\)/],
    ['an unknown option', ['diagram', `${FLOWS}#TrafficLight`, '--colour'], /diagram: unknown option '--colour'; see transitional diagram --help/],
    ['--format on transitions', ['transitions', `${FLOWS}#TrafficLight`, '--format', 'dot'], /transitions: unknown option '--format'/],
    ['two modules', ['diagram', `${FLOWS}#TrafficLight`, `${FLOWS}#Door`], /expected one <module>#<export>, got 2/],
    ['no command', [], /missing command/],
    ['no <module>#<export>', ['diagram', '--format', 'dot'], /diagram: missing <module>#<export>/],
    ['a module that throws while loading', ['diagram', 'test/diagram/fixtures/broken.ts#Broken'], /cannot load test\/diagram\/fixtures\/broken\.ts: .*"c"/],
    ['an empty export name', ['diagram', `${FLOWS}#`], /missing export name after "#"/],
  ];
  for (const [name, args, message] of cases) {
    test(name, () => {
      const r = cli(...args);
      assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^transitional: [^\n]+\n$/, 'exactly one line');
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\bat .*:\d+:\d+/, 'no stack trace');
    });
  }
});

describe('the package bin', () => {
  test('package.json maps `transitional` to an executable script for node', () => {
    assert.equal(pkg.bin['transitional'], 'dist/bin.js');
    assert.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env node\n/);
  });

  test('npx transitional runs it, on the project\'s Node', () => {
    const env = { ...process.env };
    delete env['NODE_TEST_CONTEXT'];
    const r = spawnSync('npx', ['--no', 'transitional', 'diagram', `${FLOWS}#TrafficLight`], { cwd: root, encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, toMermaid(TrafficLight) + '\n');
  });
});

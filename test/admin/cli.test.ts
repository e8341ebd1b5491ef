/**
 * `npx transitional admin <module>#<export>` (through the package's bin, dist/bin.js) and
 * `npm start -- --admin` (the flagship example, then the view on its database), as processes.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const bin = join(root, pkg.bin['transitional']!);
const dir = mkdtempSync(join(tmpdir(), 'transitional-admin-cli-'));
const DEADLINE = 30_000;

function env(file: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, SUPPORT_TICKETS_DB: join(dir, file) };
  delete out['NODE_TEST_CONTEXT'];
  return out;
}

after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `args` and resolves with the URL the first stdout line matching `pattern` holds. */
function serving(args: string[], file: string, pattern: RegExp): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, args, { cwd: root, env: env(file), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "${pattern}" within ${DEADLINE} ms; stdout: ${out}\nstderr: ${err}`));
    }, DEADLINE);
    const check = () => {
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, output: () => out + err });
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before serving; stdout: ${out}\nstderr: ${err}`));
    });
  });
}

/** Sends SIGTERM and resolves with the exit code (SIGKILL after the deadline). */
function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE);
    child.removeAllListeners('exit');
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

describe('transitional admin', () => {
  test('--help; bad input is one line on stderr and exit code 2', { timeout: DEADLINE }, () => {
    const help = spawnSync(process.execPath, [bin, 'admin', '--help'], { cwd: root, encoding: 'utf8', env: env('help.sqlite') });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: transitional admin <module>#<export> \[--port <n>\] \[--host <h>\]/);
    assert.match(spawnSync(process.execPath, [bin, '--help'], { cwd: root, encoding: 'utf8' }).stdout, /admin <module>#<export> {8}Serve the admin view/);
    const cases: [string[], RegExp][] = [
      [['admin'], /admin: missing <module>#<export>/],
      [['admin', 'examples/support-tickets.ts#adminOptions', '--port', 'http'], /--port must be a port number/],
      [['admin', 'examples/support-tickets.ts#nope'], /has no export named "nope"/],
      [['admin', 'examples/support-tickets.ts#status'], /examples\/support-tickets\.ts#status: adminHandler\(\): options\.orm must be an initialized MikroORM/],
    ];
    for (const [args, message] of cases) {
      const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', env: env('bad.sqlite'), timeout: DEADLINE });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^transitional: [^\n]+\n$/);
      assert.match(r.stderr, message);
    }
  });

  test('serves the options a module exports (a function returning them) until SIGTERM', { timeout: 2 * DEADLINE }, async () => {
    const { child, url, output } = await serving([bin, 'admin', 'examples/support-tickets.ts#adminOptions', '--port', '0'], 'cli.sqlite', /serving (http:\/\/127\.0\.0\.1:\d+\/) \(Ctrl-C to stop\)/);
    try {
      const res = await fetch(url);
      assert.equal(res.status, 200);
      const page = await res.text();
      assert.match(page, /<h2 id="flow-0">Support tickets<\/h2>/);
      assert.match(page, /Escalated to billing/);
    } finally {
      assert.equal(await stop(child), 0, output());
    }
  });
});

describe('npm start -- --admin', () => {
  test('runs the flagship example, then serves the admin view on its database until SIGTERM', { timeout: 2 * DEADLINE }, async () => {
    const { child, url, output } = await serving(['--import', 'tsx', 'examples/support-tickets.ts', '--admin'], 'start.sqlite', /Admin view: (http:\/\/127\.0\.0\.1:\d+\/) \(Ctrl-C to stop\)/);
    try {
      assert.match(output(), /#1: resolved and closed in one transaction → closed\./);
      const index = await (await fetch(url)).text();
      assert.match(index, /<a href="\/flows\/SupportTicketFlow\/states\/closed">closed<\/a><\/td><td class="num">3<\/td>/);
      const ticket = await (await fetch(`${url}flows/SupportTicketFlow/entities/2`)).text();
      assert.match(ticket, /<h1>Ticket 2: Refund order #1234<\/h1>/);
      assert.match(ticket, /<td>Refund<\/td><td>In progress <code>in_progress<\/code><\/td><td>Escalated to billing <code>escalated<\/code><\/td><td>(bob|carol)<\/td>/);
    } finally {
      assert.equal(await stop(child), 0, output());
    }
  });
});

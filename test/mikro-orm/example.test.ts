/** The flagship example (`npm start`) runs, twice on the same file, as a separate process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('examples/support-tickets.ts runs twice on the same SQLite file', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'transitional-example-'));
  try {
    const env = { ...process.env, SUPPORT_TICKETS_DB: join(dir, 'support-tickets.sqlite') };
    for (let run = 1; run <= 2; run++) {
      const { stdout } = await promisify(execFile)(join(root, 'node_modules/.bin/node'), ['--import', 'tsx', 'examples/support-tickets.ts'], { cwd: root, env });
      assert.match(stdout, /#1: resolved and closed in one transaction → closed\./, `run ${run}`);
      assert.match(stdout, /resolve\('   '\) failed \("a resolution must say what was done"\): still in_progress, resolution null, nothing written/);
      assert.match(stdout, /lost: Ticket 2: start\(\) expected status "triaged" but the database has "in_progress"/);
      assert.match(stdout, /copy is back to triaged \(assignee null\)/);
      assert.match(stdout, /refund failed .* → escalated, resolution null/);
      assert.match(stdout, /#2 "Refund order #1234": escalated\n {2}new → triaged \(triage, by alice\)\n {2}triaged → in_progress \(start, by (bob|carol)\)\n {2}in_progress → escalated \(refund, by \1\)\n/);
      assert.match(stdout, /#3 "Cannot log in": closed\n(  .*\n){6}\n/);
      assert.match(stdout, /#3: asked, got a reply → in_progress, question null \(an exit hook of waiting\)\./);
      assert.match(stdout, /stateDiagram-v2/);
      assert.match(stdout, /state "Escalated to billing" as escalated\n/);
      assert.match(stdout, /in_progress --> escalated: Refund \(error\)\n/);
      assert.match(stdout, /#4: no reply → closed by the timer\./);
      assert.match(stdout, /#4 "VPN drops every hour": closed\n(  .*\n){3} {2}waiting → closed \(closeForNoReply, by system\)\n/);
      assert.match(stdout, /Sent after the commits:\n {2}to alice: #1 is yours\n {2}to alice: #3 is yours\n {2}to alice: #4 is yours\n {2}to (bob|carol): #2 is yours\n {2}to the customer of #1: your ticket is resolved \(attempt 1\)\n {2}to the customer of #3: your ticket is resolved \(attempt 1\)\n {2}to the customer of #4: your ticket is closed \(attempt 1\)\n/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('main() returns what it printed', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'transitional-example-'));
  try {
    const { main } = await import('../../examples/support-tickets.ts');
    const summary = await main({ file: join(dir, 'tickets.sqlite') });
    assert.deepEqual(summary.tickets.map((t) => [t.title, t.status, t.history.length]), [
      ['Printer on fire', 'closed', 4],
      ['Refund order #1234', 'escalated', 3],
      ['Cannot log in', 'closed', 6],
      ['VPN drops every hour', 'closed', 4],
    ]);
    assert.equal(summary.outbox.length, 7);
    assert.deepEqual(summary.rolledBack, { error: 'a resolution must say what was done', status: 'in_progress' });
    assert.match(summary.concurrent, /another entity manager or process changed it first/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

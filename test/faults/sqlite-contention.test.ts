/**
 * README, Guarantees ("no hangs": a lock that cannot be had in time) on the embedded default: 4 processes write
 * one SQLite file back to back for a few seconds, each call (load and toggle) against a
 * deadline. Every call either succeeds or fails typed (`TransitionNotPersisted`, reason
 * `'database'`) — none hangs, none gets a plain driver error, no process starves without a single
 * success — and afterwards each process's ORM still works. The file then holds exactly the
 * successful calls: each lamp's history chains and matches its counter.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../mikro-orm/fixtures.ts';
import { chainProblems, createFaultDatabase, seedLamps, stored } from './fixtures.ts';
import { Worker } from './workers.ts';
import type { Report } from './toggle-worker.ts';

const WORKERS = 4;
const DURATION = 4_000;
/** SQLite's busy timeout in the workers, short so that contention makes some calls give up the lock (the case under test). */
const BUSY_TIMEOUT = 150;
/** Well past the busy timeout: a call still running after 5 s is a hang. */
const DEADLINE = 5_000;

describe(`SQLite: ${WORKERS} processes writing one file back to back`, () => {
  let db: Database;
  const workers: Worker[] = [];
  before(async () => {
    db = await createFaultDatabase('sqlite');
  });
  after(async () => {
    for (const w of workers) if (w.alive) await w.kill();
    await db?.dispose();
  });

  test('every call succeeds or fails typed within its deadline, none starves, the ORMs work afterwards, the file is consistent', { timeout: 60_000 }, async () => {
    const ids = await seedLamps(db, WORKERS);
    for (const id of ids) workers.push(new Worker({ spec: db.spec, ids: [id], duration: DURATION, deadline: DEADLINE, sqliteTimeout: BUSY_TIMEOUT, final: true }));
    await Promise.all(workers.map((w) => w.expect('ready', 30_000)));
    const reports = await Promise.all(workers.map(async (w) => JSON.parse(await w.expect('result', DURATION + DEADLINE + 10_000)) as Report));
    reports.forEach((r, i) => {
      assert.equal(r.hung, 0, `worker ${i}: a call hung (no answer within ${DEADLINE} ms): ${JSON.stringify(r)}`);
      assert.deepEqual(r.untyped, [], `worker ${i}: calls failed with untyped errors: ${JSON.stringify(r)}`);
      assert.deepEqual(Object.keys(r.notPersisted).filter((k) => k !== 'database'), [], `worker ${i}: ${JSON.stringify(r)}`);
      assert.equal(r.concurrent, 0, `worker ${i} writes its own lamp: no ConcurrentTransition expected`);
      assert.ok(r.ok > 0, `worker ${i} starved: not one call succeeded in ${DURATION} ms (${JSON.stringify(r)})`);
    });
    // One at a time, each ORM must still work.
    for (const [i, w] of workers.entries()) {
      w.child.stdin.write('final\n');
      const final = JSON.parse(await w.expect('final', DEADLINE + 5_000)) as { status: string; error?: string };
      assert.equal(final.status, 'fulfilled', `worker ${i}'s ORM after the contention: ${JSON.stringify(final)}`);
      assert.equal(await w.exit(10_000), 0, w.stderr);
    }
    const total = reports.reduce((sum, r) => sum + r.ok, 0);
    let rows = 0;
    for (const [i, id] of ids.entries()) {
      const row = await stored(db, id);
      assert.deepEqual(chainProblems(id, row), []);
      assert.equal(row.history.length, reports[i]!.ok + 1, `lamp ${id}: one history row per successful call (and the final one)`);
      rows += row.history.length;
    }
    assert.equal(rows, total + WORKERS);
    console.log(`# ${WORKERS} processes, ${DURATION} ms: ${total} calls committed, ${reports.map((r) => JSON.stringify(r.notPersisted)).join(' ')} not persisted, slowest ${Math.max(...reports.map((r) => r.slowest))} ms`);
  });
});

/**
 * Effects after commit (README): a durable afterCommit hook is recorded with the commit and run by a worker process,
 * never by the committing one; a hook that throws is retried, `event.attempt` counting from 1,
 * until it succeeds, or given up after `maxAttempts` (kept as failed, not pending).
 *
 * `receipt` writes a ReceiptRun row (attempt, outcome, process id) outside any transaction each
 * time it runs, and throws on the attempts up to the parcel's `failuresWanted`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../mikro-orm/fixtures.ts';
import { databaseKinds } from '../mikro-orm/fixtures.ts';
import { Parcel, ReceiptRun } from './entities.ts';
import { ParcelFlow, afterCommitLog } from './parcel-flow.ts';
import { WorkerProcess, createWorkerDatabase, jobCounts, pendingFor, seedParcels, waitUntil } from './support.ts';

const MAX_ATTEMPTS = 3;

const { kinds, missing } = databaseKinds();
if (missing !== undefined) test('the databases are available under CI (durable hooks)', () => assert.fail(missing));

async function pay(db: Database, id: number): Promise<void> {
  const em = db.fork();
  await new ParcelFlow(await em.findOneOrFail(Parcel, id), em).pay();
}

async function runsOf(db: Database, id: number): Promise<Array<{ attempt: number; ok: boolean; pid: number }>> {
  const rows = await db.fork().find(ReceiptRun, { parcelId: id }, { orderBy: { id: 'asc' } });
  return rows.map((r) => ({ attempt: r.attempt, ok: Boolean(r.ok), pid: r.pid }));
}

for (const kind of kinds) {
  describe(`a throwing durable afterCommit hook, in a worker process, on ${kind}`, { concurrency: true }, () => {
    let db: Database;
    let worker: WorkerProcess;
    before(async () => {
      db = await createWorkerDatabase(kind);
      worker = new WorkerProcess({ spec: db.spec, options: { pollInterval: 100, maxAttempts: MAX_ATTEMPTS }, lifetime: 90_000 });
      await worker.expect('ready', 30_000);
    });
    after(async () => {
      await WorkerProcess.killAll();
      await db?.dispose();
    });

    test('is retried (attempt 1, 2, 3) until it succeeds, then never runs again', { timeout: 60_000 }, async () => {
      const [id] = await seedParcels(db, 1, { failuresWanted: 2 });
      await pay(db, id!);
      // The in-process hook ran here; the durable one did not.
      assert.ok(afterCommitLog.includes(`pay:new>paid#${id}`));
      const runs = await waitUntil(async () => {
        const found = await runsOf(db, id!);
        return found.some((r) => r.ok) ? found : undefined;
      }, 30_000, 'the receipt succeeding');
      // Its job is done: it runs no more.
      await waitUntil(async () => (await pendingFor(db, id!)) === 0, 10_000, 'the job done');
      assert.deepEqual(await runsOf(db, id!), runs, 'the hook ran again after it succeeded');
      assert.deepEqual(runs.map((r) => [r.attempt, r.ok]), [[1, false], [2, false], [3, true]]);
      assert.deepEqual(new Set(runs.map((r) => r.pid)), new Set([worker.child.pid]), 'a run outside the worker process');
      const failures = worker.linesOf('failed').map((l) => JSON.parse(l) as { id: unknown; hook: string; message: string }).filter((f) => f.id === id);
      assert.deepEqual(failures.map((f) => [f.hook, f.message]), [
        ['receipt', 'the mail server is down (attempt 1)'],
        ['receipt', 'the mail server is down (attempt 2)'],
      ]);
    });

    test(`is given up after maxAttempts (${MAX_ATTEMPTS}) and kept as failed, not pending`, { timeout: 60_000 }, async () => {
      const before = await jobCounts(db);
      const [id] = await seedParcels(db, 1, { failuresWanted: 99 });
      await pay(db, id!);
      const runs = await waitUntil(async () => {
        const found = await runsOf(db, id!);
        return found.length >= MAX_ATTEMPTS ? found : undefined;
      }, 30_000, `${MAX_ATTEMPTS} runs of the receipt`);
      // Marked failed: it will not run again.
      await waitUntil(async () => (await jobCounts(db)).failed === before.failed + 1, 10_000, 'the job marked failed');
      assert.deepEqual((await runsOf(db, id!)).map((r) => [r.attempt, r.ok]), runs.map((r) => [r.attempt, r.ok]));
      assert.deepEqual(runs.map((r) => [r.attempt, r.ok]), [[1, false], [2, false], [3, false]]);
    });
  });
}

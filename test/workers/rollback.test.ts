/**
 * Effects after commit, Timers and workers (README): timers and durable hooks are recorded in the transaction that commits the call,
 * so a call that does not commit schedules nothing, and afterCommit hooks run only for work that
 * is durable.
 *
 * - Inside the caller's own `em.transactional` that then rolls back (on a database that has never
 *   recorded a job, so the job table or pg-boss schema is made on this first use): no timer, no
 *   durable hook job, no in-process afterCommit hook, and the caller's own earlier write inside
 *   that transaction is rolled back too (creating the job table did not commit it).
 * - The same calls when the caller's transaction commits: one timer and one hook job, and the
 *   in-process hooks run once it has committed.
 * - A call whose body throws: nothing scheduled; the same call that succeeds schedules its timer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../mikro-orm/fixtures.ts';
import { databaseKinds } from '../mikro-orm/fixtures.ts';
import { Parcel, ReceiptRun } from './entities.ts';
import { ParcelFlow, afterCommitLog } from './parcel-flow.ts';
import { createWorkerDatabase, jobCounts, loadParcel, parcelHistory, seedParcels, waitUntil } from './support.ts';

const { kinds, missing } = databaseKinds();
if (missing !== undefined) test('the databases are available under CI (rollback)', () => assert.fail(missing));

for (const kind of kinds) {
  describe(`calls that do not commit schedule nothing, on ${kind}`, () => {
    let db: Database;
    before(async () => {
      db = await createWorkerDatabase(kind);
    });
    after(async () => {
      await db?.dispose();
    });

    /** Inside one transaction of the caller's: a write of its own, a call leaving a timer, a call leaving a durable hook; then `end`. */
    async function inCallersTransaction(timed: number, paid: number, end: 'commit' | 'rollback'): Promise<void> {
      await db.fork().transactional(async (em) => {
        await em.insert(ReceiptRun, { parcelId: timed, attempt: 0, ok: true, pid: process.pid });
        await new ParcelFlow(await em.findOneOrFail(Parcel, timed), em).start();
        await new ParcelFlow(await em.findOneOrFail(Parcel, paid), em).pay();
        if (end === 'rollback') throw new Error('the caller changed its mind');
      });
    }

    test('a caller\'s own transaction that rolls back: no job, no afterCommit hook, nothing of it kept', { timeout: 30_000 }, async () => {
      const [timed, paid] = await seedParcels(db, 2);
      await assert.rejects(inCallersTransaction(timed!, paid!, 'rollback'), /changed its mind/);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(await jobCounts(db), { pending: 0, failed: 0, completed: 0 });
      assert.deepEqual(afterCommitLog.filter((l) => l.endsWith(`#${timed}`) || l.endsWith(`#${paid}`)), []);
      for (const id of [timed!, paid!]) {
        assert.equal((await loadParcel(db, id)).phase, 'new');
        assert.deepEqual(await parcelHistory(db, id), []);
      }
      assert.equal(await db.fork().count(ReceiptRun, { parcelId: timed! }), 0, 'the caller\'s own write was committed');
    });

    test('the same when the caller\'s transaction commits: a timer and a hook job, and the afterCommit hooks once committed', { timeout: 30_000 }, async () => {
      const before = await jobCounts(db);
      const [timed, paid] = await seedParcels(db, 2);
      await inCallersTransaction(timed!, paid!, 'commit');
      assert.equal((await jobCounts(db)).pending, before.pending + 2);
      await waitUntil(() => afterCommitLog.includes(`start:new>quick#${timed}`) && afterCommitLog.includes(`pay:new>paid#${paid}`), 5_000, 'the afterCommit hooks');
      assert.equal((await loadParcel(db, timed!)).phase, 'quick');
      assert.equal(await db.fork().count(ReceiptRun, { parcelId: timed! }), 1);
    });

    test('a call whose body throws schedules nothing; the same call that succeeds schedules its timer', { timeout: 30_000 }, async () => {
      const before = await jobCounts(db);
      const [id, other] = await seedParcels(db, 2);
      const em = db.fork();
      const flow = new ParcelFlow(await em.findOneOrFail(Parcel, id!), em);
      await assert.rejects(flow.startBadly(), /the body failed/);
      assert.equal(flow.parcel.phase, 'new');
      assert.deepEqual(await jobCounts(db), before);
      assert.deepEqual(afterCommitLog.filter((l) => l.endsWith(`#${id}`)), []);
      assert.equal((await loadParcel(db, id!)).phase, 'new');

      const em2 = db.fork();
      await new ParcelFlow(await em2.findOneOrFail(Parcel, other!), em2).start();
      assert.equal((await jobCounts(db)).pending, before.pending + 1);
    });
  });
}

/**
 * Timers and workers (README): when a timer falls due, a worker calls its transition only if the entity is still
 * where the timer left it, in the same visit of that state; otherwise the job is dropped (done,
 * not failed, not retried) and nothing changes.
 *
 * With `expire` (source `slow`, after SLOW_MS = 2 s) and a worker process that announces every
 * timer body it starts:
 * - a parcel that left `slow` before its timer fell due stays where it went;
 * - a parcel that left `slow` and came back a second later is in a new visit: its first timer does
 *   nothing, and the second fires, once, no sooner than its own due time;
 * - a parcel deleted before its timer fell due: the timer is dropped.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../mikro-orm/fixtures.ts';
import { databaseKinds } from '../mikro-orm/fixtures.ts';
import { sleep } from '../support/deadline.ts';
import { Parcel } from './entities.ts';
import { ParcelFlow, SLOW_MS } from './parcel-flow.ts';
import { WorkerProcess, createWorkerDatabase, loadParcel, parcelHistory, reached, seedParcels, waitUntil, jobCounts } from './support.ts';

const { kinds, missing } = databaseKinds();
if (missing !== undefined) test('the databases are available under CI (outdated timers)', () => assert.fail(missing));

async function flowOf(db: Database, id: number): Promise<ParcelFlow> {
  const em = db.fork();
  return new ParcelFlow(await em.findOneOrFail(Parcel, id), em);
}

for (const kind of kinds) {
  describe(`a timer whose entity moved on, on ${kind}`, { concurrency: true }, () => {
    let db: Database;
    let worker: WorkerProcess;
    before(async () => {
      db = await createWorkerDatabase(kind);
      worker = new WorkerProcess({ spec: db.spec, options: { pollInterval: 100 }, announce: true, lifetime: 90_000 });
      await worker.expect('ready', 30_000);
    });
    after(async () => {
      await WorkerProcess.killAll();
      await db?.dispose();
    });

    /** Waits until the worker has taken every job recorded so far (none pending). */
    const settled = () => waitUntil(async () => (await jobCounts(db)).pending === 0, SLOW_MS + 15_000, 'every timer taken');

    test('left the source: the timer does nothing', { timeout: 30_000 }, async () => {
      const [id] = await seedParcels(db, 1);
      await (await flowOf(db, id!)).hold();
      await (await flowOf(db, id!)).leave();
      await sleep(SLOW_MS);
      await settled();
      const parcel = await loadParcel(db, id!);
      assert.equal(parcel.phase, 'away');
      assert.equal(parcel.timerRuns, 0);
      assert.deepEqual((await parcelHistory(db, id!)).map((h) => h.transition), ['hold', 'leave']);
      assert.equal(worker.arrivalOf(`running ${id} expire`), undefined);
      assert.equal((await jobCounts(db)).failed, 0);
    });

    test('left and came back: only the new visit\'s timer fires, once, at its own time', { timeout: 30_000 }, async () => {
      const [id] = await seedParcels(db, 1);
      await (await flowOf(db, id!)).hold();
      await (await flowOf(db, id!)).leave();
      await sleep(SLOW_MS / 2);
      const cameBack = Date.now();
      await (await flowOf(db, id!)).back();
      await reached(db, [id!], 'lapsed', SLOW_MS + 15_000);
      await settled();
      const fired = worker.arrivalOf(`running ${id} expire`);
      assert.ok(fired !== undefined && fired >= cameBack + SLOW_MS, `the timer body ran ${fired === undefined ? 'never' : `${fired - cameBack} ms`} after the parcel came back, sooner than its ${SLOW_MS} ms`);
      assert.equal(worker.linesOf('running').filter((l) => l === `${id} expire`).length, 1);
      const parcel = await loadParcel(db, id!);
      assert.equal(parcel.timerRuns, 1);
      assert.deepEqual((await parcelHistory(db, id!)).map((h) => `${h.transition}:${h.source}>${h.target}`), ['hold:new>slow', 'leave:slow>away', 'back:away>slow', 'expire:slow>lapsed']);
      assert.equal((await jobCounts(db)).failed, 0);
    });

    test('deleted: the timer is dropped', { timeout: 30_000 }, async () => {
      const [id] = await seedParcels(db, 1);
      await (await flowOf(db, id!)).hold();
      await db.fork().nativeDelete(Parcel, { id: id! });
      await sleep(SLOW_MS);
      await settled();
      assert.equal(worker.arrivalOf(`running ${id} expire`), undefined);
      assert.equal((await jobCounts(db)).failed, 0);
      assert.deepEqual(worker.linesOf('failed'), []);
    });
  });
}

/**
 * Contract §12: a job claimed by a worker that dies is run by another worker within a minute.
 *
 * A worker process takes a due timer and is killed with `kill -9` in the middle of its body (the
 * body sleeps, so the kill lands while the job's transaction is open and the job is claimed but
 * not done). Nothing of that run is committed; a second worker process then runs the timer, once:
 * the parcel lapses, its counter is 1, history has one `lapse` row, and the queue is empty.
 *
 * How soon the second worker takes it: on SQLite and MariaDB after the dead worker's lease (set to
 * 2 s here with `startWorker`'s `lease`; 30 s by default), on PostgreSQL after pg-boss's heartbeat
 * (10 s, its minimum) and one supervision pass (2 s).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../mikro-orm/fixtures.ts';
import { databaseKinds } from '../mikro-orm/fixtures.ts';
import { Parcel } from './entities.ts';
import { ParcelFlow } from './parcel-flow.ts';
import { WorkerProcess, createWorkerDatabase, drained, loadParcel, parcelHistory, reached, seedParcels } from './support.ts';

const LEASE = 2_000;

const { kinds, missing } = databaseKinds();
if (missing !== undefined) test('the databases are available under CI (workers killed)', () => assert.fail(missing));

for (const kind of kinds) {
  describe(`a worker killed with kill -9 while it runs a due timer, on ${kind}`, () => {
    let db: Database;
    before(async () => {
      db = await createWorkerDatabase(kind);
    });
    after(async () => {
      await WorkerProcess.killAll();
      await db?.dispose();
    });

    test('another worker runs the timer once: one state change, one history row, nothing left', { timeout: 60_000 }, async () => {
      const [id] = await seedParcels(db, 1);
      const options = { pollInterval: 100, lease: LEASE };
      const doomed = new WorkerProcess({ spec: db.spec, options, announce: true, bodySleep: 120_000, lifetime: 90_000 });
      await doomed.expect('ready', 30_000);

      const em = db.fork();
      await new ParcelFlow(await em.findOneOrFail(Parcel, id!), em).start();
      await doomed.expect('running', 15_000);
      await doomed.kill();
      const killedAt = Date.now();

      // Nothing of the killed run was committed.
      const left = await loadParcel(db, id!);
      assert.equal(left.phase, 'quick');
      assert.equal(left.timerRuns, 0);
      assert.equal((await drained(db, 0).catch(() => undefined)), undefined, 'the killed worker\'s job is still pending');

      const heir = new WorkerProcess({ spec: db.spec, options, announce: true, lifetime: 90_000 });
      await heir.expect('ready', 30_000);
      await reached(db, [id!], 'lapsed', kind === 'postgresql' ? 40_000 : 20_000);
      const tookOver = Date.now() - killedAt;
      const counts = await drained(db, 10_000);
      await heir.stop();

      const parcel = await loadParcel(db, id!);
      assert.equal(parcel.timerRuns, 1, 'the timer body committed exactly once');
      const lapses = (await parcelHistory(db, id!)).filter((h) => h.transition === 'lapse');
      assert.deepEqual(lapses.map((h) => `${h.source}>${h.target}`), ['quick>lapsed']);
      assert.deepEqual(heir.linesOf('running'), [`${id} lapse`]);
      assert.deepEqual(heir.linesOf('failed'), []);
      assert.equal(counts.failed, 0);
      console.log(`# ${kind}: a second worker finished the killed worker's timer ${tookOver} ms after the kill`);
    });
  });
}

/**
 * Timers and workers (README): a job claimed by a worker that dies is run by another worker within a minute.
 *
 * A worker process takes a due timer and is killed with `kill -9`:
 * - in the middle of its body (the body sleeps, so the kill lands while the job's transaction is
 *   open and the job is claimed but not done). Nothing of that run is committed; a second worker
 *   process then runs the timer, once.
 * - after its transaction committed, before the job was acknowledged (the in-process afterCommit
 *   hook sleeps, and the call settles only after it). The second worker runs the job again, and
 *   that run does nothing: the parcel is no longer in the visit of `quick` the timer was for.
 * Either way the parcel lapses once (its counter is 1, history has one `lapse` row), and the queue
 * is empty afterwards.
 *
 * How soon the second worker takes it: on SQLite and MariaDB after the dead worker's lease (set to
 * 2 s here with `startWorker`'s `lease`; 30 s by default), on PostgreSQL after pg-boss's heartbeat
 * (10 s, its minimum) and one supervision pass (2 s).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../mikro-orm/fixtures.ts';
import { databaseKinds } from '../mikro-orm/fixtures.ts';
import { Parcel } from './entities.ts';
import { ParcelFlow } from './parcel-flow.ts';
import { WorkerProcess, createWorkerDatabase, drained, jobCounts, loadParcel, parcelHistory, reached, seedParcels } from './support.ts';

const LEASE = 2_000;

async function start(db: Database, id: number): Promise<void> {
  const em = db.fork();
  await new ParcelFlow(await em.findOneOrFail(Parcel, id), em).start();
}

/** The parcel lapsed once: its timer's body committed once, and history has one `lapse` row. */
async function lapsedOnce(db: Database, id: number): Promise<void> {
  const parcel = await loadParcel(db, id);
  assert.equal(parcel.phase, 'lapsed');
  assert.equal(parcel.timerRuns, 1, 'the timer body committed exactly once');
  const lapses = (await parcelHistory(db, id)).filter((h) => h.transition === 'lapse');
  assert.deepEqual(lapses.map((h) => `${h.source}>${h.target}`), ['quick>lapsed']);
}

const { kinds, missing } = databaseKinds();
if (missing !== undefined) test('the databases are available under CI (workers killed)', () => assert.fail(missing));

for (const kind of kinds) {
  // The two tests run at the same time, each on a database of its own (PostgreSQL's takeover takes ~13 s).
  describe(`a worker killed with kill -9 while it runs a due timer, on ${kind}`, { concurrency: true }, () => {
    const databases: Database[] = [];
    const fresh = async () => {
      const db = await createWorkerDatabase(kind);
      databases.push(db);
      return db;
    };
    const options = { pollInterval: 100, lease: LEASE };
    /** How long the second worker may take to get the job back. */
    const takeover = kind === 'postgresql' ? 40_000 : 20_000;
    after(async () => {
      await WorkerProcess.killAll();
      for (const db of databases) await db.dispose();
    });

    test('killed mid-body: another worker runs the timer, once; one state change, one history row, nothing left', { timeout: 60_000 }, async () => {
      const db = await fresh();
      const [id] = await seedParcels(db, 1);
      const doomed = new WorkerProcess({ spec: db.spec, options, announce: true, bodySleep: 120_000, lifetime: 90_000 });
      await doomed.expect('ready', 30_000);

      await start(db, id!);
      await doomed.expect('running', 15_000);
      await doomed.kill();
      const killedAt = Date.now();

      // Nothing of the killed run was committed.
      const left = await loadParcel(db, id!);
      assert.equal(left.phase, 'quick');
      assert.equal(left.timerRuns, 0);
      assert.equal((await jobCounts(db)).pending, 1, 'the killed worker\'s job is still pending');

      const heir = new WorkerProcess({ spec: db.spec, options, announce: true, lifetime: 90_000 });
      await heir.expect('ready', 30_000);
      await reached(db, [id!], 'lapsed', takeover);
      const tookOver = Date.now() - killedAt;
      const counts = await drained(db, 10_000);
      await heir.stop();

      await lapsedOnce(db, id!);
      assert.deepEqual(heir.linesOf('running'), [`${id} lapse`]);
      assert.deepEqual(heir.linesOf('failed'), []);
      assert.equal(counts.failed, 0);
      console.log(`# ${kind}: a second worker finished the killed worker's timer ${tookOver} ms after the kill`);
    });

    test('killed after the commit, before the job was acknowledged: the next run does nothing', { timeout: 60_000 }, async () => {
      const db = await fresh();
      const [id] = await seedParcels(db, 1);
      const doomed = new WorkerProcess({ spec: db.spec, options, announce: true, commitSleep: 120_000, lifetime: 90_000 });
      await doomed.expect('ready', 30_000);

      await start(db, id!);
      // The in-process afterCommit hook runs after the commit and before the call settles.
      assert.deepEqual(await doomed.expect('committed', 15_000), [`${id} lapse`]);
      await doomed.kill();
      await lapsedOnce(db, id!);
      assert.equal((await jobCounts(db)).pending, 1, 'the job is not acknowledged');

      const heir = new WorkerProcess({ spec: db.spec, options, announce: true, lifetime: 90_000 });
      await heir.expect('ready', 30_000);
      const counts = await drained(db, takeover);
      await heir.stop();

      await lapsedOnce(db, id!);
      assert.deepEqual(heir.linesOf('running'), [], 'the timer body ran again');
      assert.deepEqual(heir.linesOf('failed'), []);
      assert.equal(counts.failed, 0);
    });
  });
}

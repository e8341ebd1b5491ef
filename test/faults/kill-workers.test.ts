/**
 * README, Guarantees (all or nothing), against the hardest stop: processes toggling shared lamps are
 * killed with SIGKILL at random moments (bodies sleep a little so kills land mid-transaction) and
 * replaced, for a few seconds, on every database. Afterwards each lamp is consistent: its state is
 * the target of its last history row, its history is an unbroken chain from `off`, and the
 * counter every body bumps equals its number of history rows (nothing half-written, no lost
 * update). The ORM of a fresh process then works on every lamp.
 *
 * The lamps carry a version property: toggles cycle (off → on → off), and without one a process
 * that loaded `off` before two others toggled it twice would pass the state-only compare-and-set
 * and overwrite the counter (the ABA case of aba.test.ts; seen here on SQLite, where waiting for
 * the write lock widens that window). With it, that is a ConcurrentTransition, so a counter that
 * disagrees with the history can only come from a half-written or lost call.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../mikro-orm/fixtures.ts';
import { sleep } from '../support/deadline.ts';
import { LampFlow, VersionedLamp, chainProblems, createFaultDatabase, databaseKinds, seedLamps, stored } from './fixtures.ts';
import { Worker } from './workers.ts';
import type { Job } from './toggle-worker.ts';

const WORKERS = 3;
const LAMPS = 6;
const DURATION = 5_000;

const { kinds, missing } = databaseKinds();
if (missing !== undefined) test('the databases are available under CI (kill -9)', () => assert.fail(missing));

for (const kind of kinds) {
  describe(`kill -9 of writing processes at random moments on ${kind}`, () => {
    let db: Database;
    const workers: Worker[] = [];
    before(async () => {
      db = await createFaultDatabase(kind);
    });
    after(async () => {
      for (const w of workers) if (w.alive) await w.kill();
      await db?.dispose();
    });

    test('every lamp is consistent afterwards: state = last history target, an unbroken chain, counter = history rows', { timeout: 60_000 }, async () => {
      const ids = await seedLamps(db, LAMPS, VersionedLamp);
      const job: Job = { spec: db.spec, ids, duration: 60_000, deadline: 10_000, bodyDelay: 5, poolMax: 3, versioned: true };
      const spawnOne = () => {
        const w = new Worker(job);
        workers.push(w);
        return w;
      };
      const ready = new Set<Worker>();
      const watch = (w: Worker) => w.expect('ready', 30_000).then(() => void ready.add(w), () => {});
      // The kills start once the first workers are writing.
      await Promise.all(Array.from({ length: WORKERS }, () => watch(spawnOne())));
      let kills = 0;
      const end = Date.now() + DURATION;
      while (Date.now() < end) {
        await sleep(100 + Math.random() * 300);
        const working = [...ready].filter((w) => w.alive);
        if (working.length === 0) continue;
        const victim = working[Math.floor(Math.random() * working.length)]!;
        ready.delete(victim);
        await victim.kill();
        kills++;
        void watch(spawnOne());
      }
      for (const w of workers) if (w.alive) await w.kill();
      const crashed = workers.filter((w) => w.child.signalCode !== 'SIGKILL');
      assert.deepEqual(crashed.map((w) => w.stderr), [], 'a worker died of something else than our kill -9');

      let committed = 0;
      const problems: string[] = [];
      for (const id of ids) {
        const row = await stored(db, id, VersionedLamp);
        committed += row.history.length;
        problems.push(...chainProblems(id, row));
      }
      assert.deepEqual(problems, []);
      assert.ok(kills >= 3, `only ${kills} kills happened`);
      assert.ok(committed > 0, 'no call committed between the kills');
      // A fresh entity manager goes on from what the database has, on every lamp.
      const em = db.fork();
      for (const id of ids) await new LampFlow(await em.findOneOrFail(VersionedLamp, id), em).toggle();
      for (const id of ids) assert.deepEqual(chainProblems(id, await stored(db, id, VersionedLamp)), []);
      console.log(`# ${kind}: ${kills} kill -9s, ${committed} calls committed, every lamp consistent`);
    });
  });
}

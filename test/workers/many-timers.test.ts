/**
 * Timers and workers (README), on PostgreSQL: any number of worker processes share the timers, and a timer
 * changes its entity at most once however often its job runs.
 *
 * 3 worker processes; 300 parcels enter `quick` (a 200 ms timer each) while they run; the timer
 * bodies sleep a little so that jobs are in flight. One worker gets stuck in its 11th timer body
 * and is killed with `kill -9` then, mid-run. The jobs it held come back to the others after
 * pg-boss's heartbeat: the one it was stuck in runs again, and those of its batch it had
 * committed but not acknowledged (pg-boss acknowledges a batch together) run again and must do
 * nothing. Afterwards every
 * parcel lapsed exactly once (state, a counter its timer's body bumps, one `lapse` history row),
 * and every job completed, none pending or failed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TransitionLog } from 'transitional/mikro-orm';
import type { Database } from '../mikro-orm/fixtures.ts';
import { sleep } from '../support/deadline.ts';
import { Parcel } from './entities.ts';
import { ParcelFlow } from './parcel-flow.ts';
import { WorkerProcess, createWorkerDatabase, drained, jobSchemaOf, reached, seedParcels } from './support.ts';

const PARCELS = 300;
const WORKERS = 3;

const url = process.env.DATABASE_URL;
if (!url && process.env.CI === 'true') test('PostgreSQL is available under CI (3 workers, 300 timers)', () => assert.fail('CI=true but DATABASE_URL is not set'));

describe('3 worker processes, 300 timers, one worker killed with kill -9 mid-run, on PostgreSQL', { skip: url ? false : 'DATABASE_URL is not set' }, () => {
  let db: Database;
  before(async () => {
    db = await createWorkerDatabase('postgresql');
  });
  after(async () => {
    await WorkerProcess.killAll();
    await db?.dispose();
  });

  test('every timer changes its parcel exactly once, and nothing is left pending', { timeout: 90_000 }, async () => {
    const ids = await seedParcels(db, PARCELS);
    // The first worker stalls in its 11th timer body: killed then, it surely dies holding jobs.
    const workers = Array.from({ length: WORKERS }, (_, i) =>
      new WorkerProcess({ spec: db.spec, options: { concurrency: 4 }, announce: true, bodySleep: 60, jitter: true, lifetime: 120_000, ...(i === 0 ? { stallAfter: 10 } : {}) }));
    await Promise.all(workers.map((w) => w.expect('ready', 40_000)));

    // The parcels enter `quick` while the workers run, 10 calls at a time.
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < ids.length) {
          const id = ids[next++]!;
          const em = db.fork();
          await new ParcelFlow(await em.findOneOrFail(Parcel, id), em).start();
        }
      }),
    );
    const recorded = Date.now() - started;

    // Kill one worker once it has run some timers and is stuck in a body, while others are still to come.
    const [victim, ...survivors] = workers as [WorkerProcess, ...WorkerProcess[]];
    await victim.expect('running', 30_000, 11);
    await sleep(100 + Math.random() * 100);
    await victim.kill();
    const lapsedAtKill = await db.fork().count(Parcel, { phase: 'lapsed' });
    assert.ok(lapsedAtKill < PARCELS, 'the kill came after every timer had run: it proves nothing');

    await reached(db, ids, 'lapsed', 60_000);
    const counts = await drained(db, 30_000);
    const done = Date.now() - started;
    await Promise.all(survivors.map((w) => w.stop()));

    const em = db.fork();
    const parcels = await em.find(Parcel, { id: { $in: ids } });
    assert.deepEqual(parcels.filter((p) => p.phase !== 'lapsed' || p.timerRuns !== 1).map((p) => `${p.id}: ${p.phase}, ${p.timerRuns} runs`), []);
    const lapses = new Map<string, number>();
    for (const row of await em.find(TransitionLog, { entity: 'Parcel', transition: 'lapse' })) lapses.set(row.entityId, (lapses.get(row.entityId) ?? 0) + 1);
    assert.deepEqual(ids.filter((id) => lapses.get(String(id)) !== 1), [], 'parcels without exactly one lapse history row');
    assert.equal(counts.pending, 0);
    assert.equal(counts.failed, 0);
    assert.equal(counts.completed, PARCELS, 'every timer job completed');
    for (const w of survivors) assert.deepEqual(w.linesOf('failed'), []);

    // The jobs the victim held when it died ran again (pg-boss counts the lost heartbeat as a failed
    // attempt): those whose body it was in ran their body again elsewhere; those it had committed
    // but not acknowledged were dropped by that second run.
    const schema = jobSchemaOf((db.spec as { schema: string }).schema);
    const retried = ((await em.getConnection().execute(`select data->>'id' as id from "${schema}".job where name = 'transitional.jobs' and data->>'kind' = 'timer' and retry_count > 0`)) as Array<{ id: string }>).map((r) => Number(r.id));
    assert.ok(retried.length >= 1, 'no job was run again after the kill');
    const committedByVictim = new Set(victim.linesOf('committed').map((l) => Number(l.split(' ')[0])));
    const bodies = workers.map((w) => w.linesOf('running').length);
    console.log(
      `# ${PARCELS} timers recorded in ${recorded} ms; timer bodies started per worker ${bodies.join('/')} (worker 1 killed with ${lapsedAtKill} parcels lapsed); ` +
        `${retried.length} job(s) run again after the kill, ${retried.filter((id) => committedByVictim.has(id)).length} of them already committed by the killed worker; all done in ${done} ms`,
    );
  });
});

/**
 * Timers and workers (README), bad setups: a worker started where the tables it needs cannot be created fails
 * with an error saying how to create them; a worker that does not know a job's flow class reports
 * the job as failed, keeps running, and the job is not lost (a worker that knows the class runs
 * it later).
 *
 * - PostgreSQL: a role without CREATE on the database (pg-boss's schema cannot be made):
 *   `startWorker` rejects, naming the schema and how to install it; a persisted call of a flow
 *   with a timer, as that role, rejects the same way and writes nothing. Once pg-boss is installed
 *   as the message says (and the role granted its tables), that role's worker runs timers.
 * - MariaDB: a user without CREATE on its database (no `transitional_job` table).
 * - A worker process that never imported the flow's module, on SQLite and PostgreSQL.
 * (A read-only SQLite file cannot be had here: the tests run as root, whom file modes do not stop.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getConstructionPlans } from 'pg-boss';
import { startWorker } from 'transitional/mikro-orm';
import type { Database } from '../mikro-orm/fixtures.ts';
import { connect, databaseKinds, mariadbAdmin, uniqueName } from '../mikro-orm/fixtures.ts';
import { closeSoon } from '../support/deadline.ts';
import { Parcel, workerEntities } from './entities.ts';
import { ParcelFlow } from './parcel-flow.ts';
import { WorkerProcess, createWorkerDatabase, jobCounts, jobSchemaOf, loadParcel, reached, seedParcels } from './support.ts';

const { kinds, missing } = databaseKinds();
if (missing !== undefined) test('the databases are available under CI (worker setup errors)', () => assert.fail(missing));

test('startWorker refuses options out of range, naming them', async () => {
  const db = await createWorkerDatabase('sqlite');
  try {
    await assert.rejects(startWorker(db.orm, { lease: 10 }), { name: 'TypeError', message: /\{ lease \}.*at least 1000, got 10/ });
    await assert.rejects(startWorker(db.orm, { concurrency: 0 }), { name: 'TypeError', message: /\{ concurrency \}.*got 0/ });
    await assert.rejects(startWorker(db.orm, { pollInterval: Number.NaN }), { name: 'TypeError', message: /\{ pollInterval \}/ });
    await assert.rejects(startWorker(db.orm, { maxAttempts: 1.5 }), { name: 'TypeError', message: /\{ maxAttempts \}/ });
  } finally {
    await db.dispose();
  }
});

if (kinds.includes('postgresql')) {
  describe('PostgreSQL, a role that may not create schemas', () => {
    let db: Database;
    const role = uniqueName('tw_role');
    const roleUrl = () => {
      const url = new URL(process.env.DATABASE_URL!);
      url.username = role;
      url.password = '';
      return url.toString();
    };
    before(async () => {
      db = await createWorkerDatabase('postgresql');
      const spec = db.spec as { schema: string };
      const conn = db.orm.em.getConnection();
      await conn.execute(`create role "${role}" login`);
      await conn.execute(`grant usage on schema "${spec.schema}" to "${role}"`);
      await conn.execute(`grant select, insert, update, delete on all tables in schema "${spec.schema}" to "${role}"`);
      await conn.execute(`grant usage on all sequences in schema "${spec.schema}" to "${role}"`);
    });
    after(async () => {
      const conn = db?.orm.em.getConnection();
      await conn?.execute(`drop owned by "${role}"`).catch(() => {});
      await conn?.execute(`drop role if exists "${role}"`).catch(() => {});
      await db?.dispose();
    });

    test('startWorker rejects saying pg-boss cannot be installed, and how to install it', { timeout: 30_000 }, async () => {
      const orm = await connect({ ...(db.spec as { kind: 'postgresql'; url: string; schema: string }), url: roleUrl() }, { entities: workerEntities, poolMax: 2 });
      try {
        const schema = jobSchemaOf((db.spec as { schema: string }).schema);
        const expected = new RegExp(`could not install pg-boss in schema "${schema}".*permission denied.*getConstructionPlans\\('${schema}'\\)`, 's');
        await assert.rejects(startWorker(orm), { message: expected });

        // A call that would record a timer, as that role: the same error, nothing written.
        const [id] = await seedParcels(db, 1);
        const em = orm.em.fork();
        await assert.rejects(new ParcelFlow(await em.findOneOrFail(Parcel, id!), em).start(), { message: expected });
        assert.equal((await loadParcel(db, id!)).phase, 'new');
        // It was not remembered: the next attempt tries again (and fails the same way).
        await assert.rejects(startWorker(orm), { message: expected });
      } finally {
        await closeSoon(orm, 5_000);
      }
    });

    test('once installed by hand as the error says (and granted), the role\'s worker starts and runs timers', { timeout: 30_000 }, async () => {
      const schema = jobSchemaOf((db.spec as { schema: string }).schema);
      const conn = db.orm.em.getConnection();
      const pool = (await (conn as unknown as { getNativeClient(): Promise<{ query(sql: string): Promise<unknown> }> }).getNativeClient());
      await pool.query(getConstructionPlans(schema));
      await conn.execute(`grant usage on schema "${schema}" to "${role}"`);
      await conn.execute(`grant select, insert, update, delete on all tables in schema "${schema}" to "${role}"`);
      const orm = await connect({ ...(db.spec as { kind: 'postgresql'; url: string; schema: string }), url: roleUrl() }, { entities: workerEntities, poolMax: 4 });
      try {
        const worker = await startWorker(orm, { pollInterval: 100 });
        const [id] = await seedParcels(db, 1);
        const em = orm.em.fork();
        await new ParcelFlow(await em.findOneOrFail(Parcel, id!), em).start();
        await reached(db, [id!], 'lapsed', 15_000);
        await worker.stop();
      } finally {
        await closeSoon(orm, 5_000);
      }
    });
  });
}

if (kinds.includes('mariadb')) {
  describe('MariaDB, a user that may not create tables', () => {
    let db: Database;
    const user = uniqueName('tw_user').slice(0, 60);
    before(async () => {
      db = await createWorkerDatabase('mariadb');
      const dbName = (db.spec as { dbName: string }).dbName;
      await mariadbAdmin(process.env.MARIADB_URL!, `create user '${user}'@'127.0.0.1'`, `grant select, insert, update, delete on \`${dbName}\`.* to '${user}'@'127.0.0.1'`);
    });
    after(async () => {
      await mariadbAdmin(process.env.MARIADB_URL!, `drop user if exists '${user}'@'127.0.0.1'`).catch(() => {});
      await db?.dispose();
    });

    test('startWorker rejects saying the job table cannot be created, and how to create it', { timeout: 30_000 }, async () => {
      const url = new URL(process.env.MARIADB_URL!);
      url.username = user;
      url.password = '';
      const orm = await connect({ ...(db.spec as { kind: 'mariadb'; url: string; dbName: string }), url: url.toString() }, { entities: workerEntities, poolMax: 2 });
      try {
        await assert.rejects(startWorker(orm), { message: /could not create its job table transitional_job.*denied.*Create it with a user that may: create table if not exists transitional_job/s });
      } finally {
        await closeSoon(orm, 5_000);
      }
    });
  });
}

for (const kind of kinds.filter((k) => k !== 'mariadb')) {
  describe(`a worker that does not know the flow class, on ${kind}`, () => {
    let db: Database;
    before(async () => {
      db = await createWorkerDatabase(kind);
    });
    after(async () => {
      await WorkerProcess.killAll();
      await db?.dispose();
    });

    test('reports the job as failed and keeps running; a worker that knows the class runs it later', { timeout: 60_000 }, async () => {
      const [id] = await seedParcels(db, 1);
      const options = { pollInterval: 100 };
      const ignorant = new WorkerProcess({ spec: db.spec, flows: false, options, announce: true, lifetime: 90_000 });
      await ignorant.expect('ready', 30_000);
      const em = db.fork();
      await new ParcelFlow(await em.findOneOrFail(Parcel, id!), em).start();

      const [line] = await ignorant.expect('failed', 15_000);
      const failure = JSON.parse(line!) as { kind: string; transition: string; message: string };
      assert.equal(failure.kind, 'timer');
      assert.equal(failure.transition, 'lapse');
      assert.match(failure.message, /no flow class ParcelFlow \(State phase\) is persisted in this worker process: import the module that calls persistTransitions for it before startWorker\(\)/);
      // Still alive, and the job is kept for another attempt.
      await ignorant.stop();
      assert.deepEqual(ignorant.linesOf('stopped'), ['']);
      assert.equal((await loadParcel(db, id!)).phase, 'quick');
      const counts = await jobCounts(db);
      assert.equal(counts.pending, 1);
      assert.equal(counts.failed, 0);

      const knowing = new WorkerProcess({ spec: db.spec, options, announce: true, lifetime: 90_000 });
      await knowing.expect('ready', 30_000);
      await reached(db, [id!], 'lapsed', 20_000);
      await knowing.stop();
      assert.equal((await loadParcel(db, id!)).timerRuns, 1);
    });
  });
}

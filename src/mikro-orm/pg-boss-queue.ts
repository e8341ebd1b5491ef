/**
 * Jobs on PostgreSQL, kept by pg-boss (an existing job engine, not a queue of ours): recorded with
 * `send(..., { db })` inside the committing transaction, run by any number of worker processes.
 *
 * Settings, chosen for the contract "a job whose worker dies is run by another within a minute":
 * a 10 s heartbeat per job and 2 s supervision, so an abandoned job is retried after about 10 s;
 * a large retry limit (a lost heartbeat uses up a retry) with exponential backoff up to 5 minutes;
 * and a retention long enough for timers far in the future (pg-boss deletes jobs waiting longer
 * than their queue's retention).
 *
 * pg-boss's own statements go through the `pg` pool MikroORM already holds (pg-boss needs the rows
 * of multi-statement queries, which MikroORM's Kysely drops); `send` inside a transaction goes
 * through that transaction (`fromKysely`). pg-boss is an optional peer dependency, loaded on first use.
 */

import type { EntityManager, Transaction } from '@mikro-orm/core';
import type { PgBoss as PgBossType, ConstructorOptions, QueueOptions } from 'pg-boss';
import type { Job, JobQueue } from './jobs.ts';

/** One queue for timers and durable hooks: a commit that leaves both records them in one statement. */
export const JOB_QUEUE = 'transitional.jobs';

/** Queue settings (see the module comment). */
export const QUEUE_OPTIONS: QueueOptions = {
  heartbeatSeconds: 10,
  retryLimit: 1000,
  retryDelay: 1,
  retryBackoff: true,
  retryDelayMax: 300,
  retentionSeconds: 10 * 365 * 24 * 3600,
  deleteAfterSeconds: 7 * 24 * 3600,
};

type PgBossModule = typeof import('pg-boss');

let loaded: Promise<PgBossModule> | undefined;

/** pg-boss, or an error saying how to install it. */
export function loadPgBoss(): Promise<PgBossModule> {
  loaded ??= import('pg-boss').catch((error: unknown) => {
    loaded = undefined;
    throw new Error(`transitional/mikro-orm: timers and durable afterCommit hooks on PostgreSQL run on pg-boss; install it: npm install pg-boss@12.38.0 (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  });
  return loaded;
}

interface PgPool {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] } | Array<{ rows: unknown[] }>>;
  end(...args: unknown[]): Promise<void>;
}

async function poolOf(em: EntityManager): Promise<PgPool> {
  return (await (em.getConnection('write') as unknown as { getNativeClient(): Promise<unknown> }).getNativeClient()) as PgPool;
}

/** The pg pool of MikroORM's connection, as pg-boss's `db`: its statements, their rows (all of them). */
function poolDb(pool: PgPool): NonNullable<ConstructorOptions['db']> {
  return {
    async executeSql(text: string, values?: unknown[]) {
      const result = await pool.query(text, values);
      return Array.isArray(result) ? { rows: result.flatMap((r) => r.rows) } : result;
    },
  };
}

/** Stops `boss` when MikroORM closes the pool it runs on (`orm.close()`), so nothing outlives the ORM. */
function stopWithPool(pool: PgPool, boss: PgBossType): void {
  const end = pool.end;
  pool.end = async function (this: PgPool, ...args: unknown[]) {
    pool.end = end;
    await boss.stop({ graceful: false, close: false }).catch(() => {});
    return end.apply(this, args);
  };
}

/**
 * The schema pg-boss keeps its tables in: `transitional_jobs`, or `<schema>_jobs` when the ORM
 * works in a schema of its own (so two apps, or two test runs, in one database stay apart).
 */
export function jobSchema(em: EntityManager): string {
  const schema = em.config.get('schema');
  return schema === undefined || schema === null || schema === '' || schema === 'public' ? 'transitional_jobs' : `${schema}_jobs`;
}

/**
 * A started pg-boss for `em`'s database: installs (or migrates) its schema and our queues on first
 * use, in any process that records or runs jobs. `worker` settings supervise abandoned jobs.
 */
export async function startBoss(em: EntityManager, worker: boolean): Promise<PgBossType> {
  const { PgBoss } = await loadPgBoss();
  const schema = jobSchema(em);
  const pool = await poolOf(em);
  const boss = new PgBoss({
    db: poolDb(pool),
    schema,
    schedule: false,
    registerInstance: false,
    supervise: worker,
    ...(worker ? { superviseIntervalSeconds: 2, monitorIntervalSeconds: 2 } : {}),
  });
  boss.on('error', (error: Error) => process.emitWarning(`transitional/mikro-orm: pg-boss: ${error.message}`, 'PgBossWarning'));
  try {
    await boss.start();
    if ((await boss.getQueue(JOB_QUEUE)) === null) await boss.createQueue(JOB_QUEUE, QUEUE_OPTIONS);
  } catch (error) {
    await boss.stop({ graceful: false, close: false }).catch(() => {});
    throw new Error(
      `transitional/mikro-orm could not install pg-boss in schema "${schema}" (timers and durable afterCommit hooks need it): ${error instanceof Error ? error.message : String(error)}. ` +
        `Run the process once as a user that may create schemas, or install it by hand as one that may (import { getConstructionPlans } from 'pg-boss'; run getConstructionPlans('${schema}')) and grant this user usage on schema ${schema} and select, insert, update, delete on its tables.`,
      { cause: error },
    );
  }
  stopWithPool(pool, boss);
  return boss;
}

/** The queue of a PostgreSQL database: pg-boss jobs, sent within the committing transaction. */
export async function pgBossQueue(em: EntityManager): Promise<JobQueue> {
  const { fromKysely } = await loadPgBoss();
  const boss = await startBoss(em.fork(), false);
  return {
    async record(_em: EntityManager, trx: Transaction | undefined, jobs: readonly Job[]): Promise<void> {
      if (jobs.length === 0) return;
      const options = trx === undefined ? {} : { db: fromKysely(trx as never) };
      // One statement for all of a commit's jobs.
      await boss.insert(
        JOB_QUEUE,
        jobs.map((job) => ({ data: job as unknown as object, ...(job.kind === 'timer' ? { startAfter: new Date(job.due) } : {}) })),
        options,
      );
    },
  };
}

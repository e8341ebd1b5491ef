/**
 * Jobs in a table of ours, for the databases without a job engine we build on: SQLite (the
 * embedded default; one worker process serves the file) and MariaDB/MySQL.
 *
 * `transitional_job` holds one row per job: its payload (JSON), when it is due, how many attempts
 * it had, and until when a worker holds it (a lease renewed while the job runs, so a worker that
 * dies, or loses its connection, gives the job back within the lease). Rows are inserted in the
 * committing transaction; a job done is deleted; one that failed `maxAttempts` times is kept with
 * `failed_at` set, for inspection.
 */

import type { EntityManager, Transaction } from '@mikro-orm/core';
import { SqlitePlatform } from '@mikro-orm/sql';
import type { Job, JobQueue } from './jobs.ts';

export const JOB_TABLE = 'transitional_job';

function isSqlite(em: EntityManager): boolean {
  return em.getPlatform() instanceof SqlitePlatform;
}

/** The DDL of the job table, for the database of `em`. */
export function jobTableSql(em: EntityManager): string[] {
  if (isSqlite(em)) {
    return [
      `create table if not exists ${JOB_TABLE} (id integer primary key autoincrement, kind varchar(16) not null, payload text not null, due bigint not null, attempt integer not null default 0, locked_until bigint, last_error text, failed_at bigint)`,
      `create index if not exists ${JOB_TABLE}_due on ${JOB_TABLE} (due)`,
    ];
  }
  return [
    `create table if not exists ${JOB_TABLE} (id bigint not null auto_increment primary key, kind varchar(16) not null, payload text not null, due bigint not null, attempt int not null default 0, locked_until bigint null, last_error text null, failed_at bigint null, key ${JOB_TABLE}_due (due))`,
  ];
}

/** Creates the job table if it does not exist; a failure says how to create it by hand. */
export async function createJobTable(em: EntityManager, trx?: Transaction): Promise<void> {
  const statements = jobTableSql(em);
  try {
    for (const sql of statements) await em.getConnection('write').execute(sql, [], 'run', trx);
  } catch (error) {
    throw new Error(
      `transitional/mikro-orm could not create its job table ${JOB_TABLE} (timers and durable afterCommit hooks need it): ${error instanceof Error ? error.message : String(error)}. ` +
        `Create it with a user that may: ${statements.join('; ')};`,
      { cause: error },
    );
  }
}

/**
 * The queue of a SQLite or MariaDB/MySQL database: rows of `transitional_job`. On MariaDB/MySQL the
 * table is created up front, on a connection of its own (DDL would commit a transaction there). On
 * SQLite, whose one connection may be inside a transaction now, it is created (if missing) in the
 * transaction that records the first jobs, which keeps its writes all or nothing as well.
 */
export async function tableQueue(em: EntityManager): Promise<JobQueue> {
  const sqlite = isSqlite(em);
  if (!sqlite) await createJobTable(em.fork());
  return {
    async record(em: EntityManager, trx: Transaction | undefined, jobs: readonly Job[]): Promise<void> {
      if (jobs.length === 0) return;
      if (sqlite) for (const sql of jobTableSql(em)) await em.getConnection('write').execute(sql, [], 'run', trx);
      const values = jobs.map(() => '(?, ?, ?)').join(', ');
      const params = jobs.flatMap((job) => [job.kind, JSON.stringify(job), job.kind === 'timer' ? job.due : Date.now()]);
      await em.getConnection('write').execute(`insert into ${JOB_TABLE} (kind, payload, due) values ${values}`, params, 'run', trx);
    },
  };
}

/** A job a worker holds. */
export interface ClaimedRow {
  readonly id: number;
  readonly job: Job;
  /** 1 for the first run. */
  readonly attempt: number;
}

/** Claims up to `limit` due jobs for `lease` ms. Each claim counts as an attempt. */
export async function claim(em: EntityManager, limit: number, lease: number): Promise<ClaimedRow[]> {
  const now = Date.now();
  const conn = em.getConnection('write');
  const due = `failed_at is null and due <= ? and (locked_until is null or locked_until < ?)`;
  let rows: Array<Record<string, unknown>>;
  if (isSqlite(em)) {
    rows = (await conn.execute(
      `update ${JOB_TABLE} set locked_until = ?, attempt = attempt + 1 where id in (select id from ${JOB_TABLE} where ${due} order by due, id limit ?) returning id, payload, attempt`,
      [now + lease, now, now, limit],
      'all',
    )) as Array<Record<string, unknown>>;
  } else {
    rows = await em.transactional(async (tem) => {
      const ctx = tem.getTransactionContext();
      const found = (await conn.execute(`select id from ${JOB_TABLE} where ${due} order by due, id limit ? for update skip locked`, [now, now, limit], 'all', ctx)) as Array<{ id: number }>;
      if (found.length === 0) return [];
      const ids = found.map((r) => Number(r.id));
      await conn.execute(`update ${JOB_TABLE} set locked_until = ?, attempt = attempt + 1 where id in (${ids.map(() => '?').join(', ')})`, [now + lease, ...ids], 'run', ctx);
      return (await conn.execute(`select id, payload, attempt from ${JOB_TABLE} where id in (${ids.map(() => '?').join(', ')})`, ids, 'all', ctx)) as Array<Record<string, unknown>>;
    });
  }
  return rows.map((r) => ({ id: Number(r.id), job: JSON.parse(String(r.payload)) as Job, attempt: Number(r.attempt) }));
}

/** Extends the lease of jobs still running. */
export async function renew(em: EntityManager, ids: readonly number[], lease: number): Promise<void> {
  if (ids.length === 0) return;
  await em.getConnection('write').execute(`update ${JOB_TABLE} set locked_until = ? where id in (${ids.map(() => '?').join(', ')})`, [Date.now() + lease, ...ids], 'run');
}

export async function complete(em: EntityManager, id: number): Promise<void> {
  await em.getConnection('write').execute(`delete from ${JOB_TABLE} where id = ?`, [id], 'run');
}

/** Gives a failed job back for another attempt after `retryIn` ms, or marks it failed for good. */
export async function retryLater(em: EntityManager, id: number, error: unknown, retryIn: number | undefined): Promise<void> {
  const message = (error instanceof Error ? error.stack ?? error.message : String(error)).slice(0, 4000);
  if (retryIn === undefined) {
    await em.getConnection('write').execute(`update ${JOB_TABLE} set locked_until = null, failed_at = ?, last_error = ? where id = ?`, [Date.now(), message, id], 'run');
  } else {
    await em.getConnection('write').execute(`update ${JOB_TABLE} set locked_until = null, due = ?, last_error = ? where id = ?`, [Date.now() + retryIn, message, id], 'run');
  }
}

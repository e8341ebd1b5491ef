/**
 * Test-side tools of the worker tests: a fresh database per suite (its pg-boss schema dropped with
 * it), worker processes bounded by deadlines, and what the job queue holds.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/core';
import { history, type TransitionRecord } from 'transitional/mikro-orm';
import { connect, createDatabase, type Database, type DatabaseKind } from '../mikro-orm/fixtures.ts';
import { exited } from '../support/processes.ts';
import { sleep, within } from '../support/deadline.ts';
import { Parcel, workerEntities } from './entities.ts';
import type { Phase } from './parcel-flow.ts';
import type { WorkerJob } from './worker-process.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The pg-boss schema of a PostgreSQL test schema (what pg-boss-queue.ts derives). */
export function jobSchemaOf(schema: string): string {
  return `${schema}_jobs`;
}

/** A fresh database with the worker entities; `dispose` also drops the pg-boss schema on PostgreSQL. */
export async function createWorkerDatabase(kind: DatabaseKind): Promise<Database> {
  const db = await createDatabase(kind, { entities: workerEntities });
  const spec = db.spec;
  if (spec.kind !== 'postgresql') return db;
  return {
    ...db,
    async dispose() {
      await db.dispose();
      const admin = await connect(spec, { poolMax: 1, entities: workerEntities });
      try {
        await admin.em.getConnection().execute(`set lock_timeout = '10s'`);
        await admin.em.getConnection().execute(`drop schema if exists "${jobSchemaOf(spec.schema)}" cascade`);
      } finally {
        await admin.close(true);
      }
    },
  };
}

/** Creates `count` parcels in `phase` (default `new`); returns their ids. */
export async function seedParcels(db: Database, count: number, data: Partial<Parcel> = {}): Promise<number[]> {
  const em = db.fork();
  const parcels = Array.from({ length: count }, () => em.create(Parcel, { phase: 'new', ...data } as never));
  await em.flush();
  return parcels.map((p) => p.id);
}

export async function loadParcel(db: Database, id: number): Promise<Parcel> {
  return db.fork().findOneOrFail(Parcel, id);
}

export async function parcelHistory(db: Database, id: number): Promise<TransitionRecord[]> {
  const em: EntityManager = db.fork();
  return history(em, await em.findOneOrFail(Parcel, id));
}

/** Jobs the queue still holds, by what became of them. */
export interface JobCounts {
  /** Waiting, due or running: not done yet. */
  readonly pending: number;
  /** Given up (kept for inspection). */
  readonly failed: number;
  /** Done (pg-boss keeps completed jobs for a while; our table deletes them). */
  readonly completed: number;
}

/** What the job queue of `db` holds (none yet when no job was ever recorded). */
export async function jobCounts(db: Database): Promise<JobCounts> {
  const conn = db.orm.em.getConnection();
  if (db.spec.kind === 'postgresql') {
    const schema = jobSchemaOf(db.spec.schema);
    const exists = (await conn.execute(`select count(*)::int as n from information_schema.tables where table_schema = ? and table_name = 'job'`, [schema])) as Array<{ n: number }>;
    if (exists[0]!.n === 0) return { pending: 0, failed: 0, completed: 0 };
    const rows = (await conn.execute(`select state::text as state, count(*)::int as n from "${schema}".job where name like 'transitional.%' group by state`)) as Array<{ state: string; n: number }>;
    const count = (...states: string[]) => rows.filter((r) => states.includes(r.state)).reduce((a, r) => a + r.n, 0);
    return { pending: count('created', 'retry', 'active'), failed: count('failed', 'cancelled'), completed: count('completed') };
  }
  try {
    const rows = (await conn.execute(`select failed_at is not null as failed, count(*) as n from transitional_job group by failed_at is not null`)) as Array<{ failed: number | null; n: number }>;
    const count = (failed: boolean) => rows.filter((r) => Boolean(Number(r.failed)) === failed).reduce((a, r) => a + Number(r.n), 0);
    return { pending: count(false), failed: count(true), completed: 0 };
  } catch (error) {
    if (/no such table|doesn't exist/i.test(String(error))) return { pending: 0, failed: 0, completed: 0 };
    throw error;
  }
}

/** How many jobs for the parcel `id` are pending (waiting, due or running). */
export async function pendingFor(db: Database, id: number): Promise<number> {
  const conn = db.orm.em.getConnection();
  if (db.spec.kind === 'postgresql') {
    const schema = jobSchemaOf(db.spec.schema);
    const rows = (await conn.execute(`select count(*)::int as n from "${schema}".job where name like 'transitional.%' and state in ('created', 'retry', 'active') and data->>'entity' = 'Parcel' and data->>'id' = ?`, [String(id)])) as Array<{ n: number }>;
    return rows[0]!.n;
  }
  const rows = (await conn.execute(`select payload from transitional_job where failed_at is null`)) as Array<{ payload: string }>;
  return rows.filter((r) => {
    const job = JSON.parse(r.payload) as { entity: string; id: unknown };
    return job.entity === 'Parcel' && job.id === id;
  }).length;
}

/** Polls `check` until it returns a value other than `undefined`/`false`, or fails naming `what` after `ms`. */
export async function waitUntil<T>(check: () => Promise<T | undefined | false> | T | undefined | false, ms: number, what: string, every = 100): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms${last === undefined ? '' : ` (last error: ${String(last)})`}`);
    await sleep(every);
  }
}

/** Waits until no job is pending; returns the counts then. */
export function drained(db: Database, ms: number): Promise<JobCounts> {
  return waitUntil(async () => {
    const counts = await jobCounts(db);
    return counts.pending === 0 ? counts : undefined;
  }, ms, 'the job queue draining', 200);
}

/** Waits until the parcels are all in `phase`. */
export function reached(db: Database, ids: readonly number[], phase: Phase, ms: number): Promise<true> {
  return waitUntil(async () => {
    const em = db.fork();
    const n = await em.count(Parcel, { id: { $in: [...ids] }, phase });
    return n === ids.length || undefined;
  }, ms, `${ids.length} parcel(s) reaching ${phase}`, 200);
}

/** A worker process (worker-process.ts), its output lines, and a deadline on everything. */
export class WorkerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  /** When each line arrived (Date.now()), by index. */
  readonly arrivals: number[] = [];
  stderr = '';
  readonly #waiters = new Set<() => void>();
  static readonly all = new Set<WorkerProcess>();

  constructor(job: WorkerJob) {
    this.child = spawn(join(root, 'node_modules/.bin/node'), ['--import', 'tsx', join(root, 'test/workers/worker-process.ts'), JSON.stringify(job)], { cwd: root });
    WorkerProcess.all.add(this);
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-8000)));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.lines.push(line);
      this.arrivals.push(Date.now());
      for (const wake of this.#waiters) wake();
    });
    this.child.on('exit', () => {
      for (const wake of this.#waiters) wake();
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Lines starting with `prefix`, without it. */
  linesOf(prefix: string): string[] {
    return this.lines.filter((l) => l.startsWith(`${prefix} `) || l === prefix).map((l) => l.slice(prefix.length).trim());
  }

  /** When the first line equal to `line` arrived (Date.now()), if it did. */
  arrivalOf(line: string): number | undefined {
    const at = this.lines.indexOf(line);
    return at === -1 ? undefined : this.arrivals[at];
  }

  /** Waits until at least `count` lines start with `prefix`; returns those lines' rest. */
  async expect(prefix: string, ms: number, count = 1): Promise<string[]> {
    const found = () => this.linesOf(prefix);
    const wait = new Promise<string[]>((resolve, reject) => {
      const check = () => {
        const lines = found();
        if (lines.length >= count) {
          this.#waiters.delete(check);
          resolve(lines);
        } else if (!this.alive) {
          this.#waiters.delete(check);
          reject(new Error(`the worker process ended (${this.child.exitCode ?? this.child.signalCode}) before ${count} "${prefix}" line(s): ${this.lines.join(' | ')} ${this.stderr}`));
        }
      };
      this.#waiters.add(check);
      check();
    });
    try {
      return await within(wait, ms, `${count} "${prefix}" line(s) of a worker process (it said: ${this.lines.slice(-5).join(' | ')} ${this.stderr.slice(-1000)})`);
    } finally {
      this.#waiters.clear();
    }
  }

  /** Asks the worker to stop (`worker.stop()`, then exit), within `ms`. */
  async stop(ms = 40_000): Promise<void> {
    if (!this.alive) return;
    this.child.stdin.write('stop\n');
    await within(exited(this.child), ms, 'a worker process stopping');
  }

  /** kill -9. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await within(exited(this.child), 10_000, 'a killed worker process exiting');
  }

  /** Kills every worker process still running (for `after`). */
  static async killAll(): Promise<void> {
    for (const w of WorkerProcess.all) await w.kill().catch(() => {});
    WorkerProcess.all.clear();
  }
}

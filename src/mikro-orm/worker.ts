/**
 * `startWorker(orm)`: runs due timers and durable `afterCommit` hooks of the flows persisted with
 * that ORM's entities (README, Timers and durable hooks).
 *
 * A job is run in a fresh entity manager around a freshly loaded entity, wrapped in its flow by
 * the `flow` factory of `persistTransitions`:
 * - a timer calls its transition with no arguments, as any caller would (a unit of work with its
 *   row lock), and the store checks under that lock that the entity is still in the state, and
 *   the same visit of it, that the timer was recorded for. However often a timer job runs (a
 *   worker that died after the commit, two workers racing), the state changes at most once; a
 *   timer whose entity moved on, or was deleted, is dropped.
 * - a durable hook runs with the committed change as its event (`attempt` counts from 1), and is
 *   retried with backoff until it succeeds or runs out of attempts.
 * On PostgreSQL the jobs are pg-boss's, and any number of workers share them; on SQLite (and
 * MariaDB/MySQL) they are rows of our table, and one worker process per database serves them.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityManager, MikroORM } from '@mikro-orm/core';
import { BasePostgreSqlPlatform } from '@mikro-orm/sql';
import { TransitionNotAllowed } from '../core/errors.ts';
import { ConcurrentTransition, TransitionNotPersisted } from './errors.ts';
import { backoff, type Job } from './jobs.ts';
import { claim, complete, createJobTable, renew, retryLater, type ClaimedRow } from './table-queue.ts';
import { JOB_QUEUE, startBoss } from './pg-boss-queue.ts';

/** The stores a worker can find jobs' flows in: filled by `persistTransitions`. */
export interface WorkerStore {
  readonly key: string;
  readonly state: { readonly name: string };
  wrap(entity: object, em: EntityManager): object;
}
const registry = new Map<string, WorkerStore[]>();

export function registerStore(store: WorkerStore): void {
  const list = registry.get(store.key) ?? [];
  list.push(store);
  registry.set(store.key, list);
}

function storeFor(key: string): WorkerStore {
  const list = registry.get(key);
  if (list === undefined || list.length === 0) {
    throw new Error(`no flow class ${key.replace('#', ' (State ')}) is persisted in this worker process: import the module that calls persistTransitions for it before startWorker().`);
  }
  if (list.length > 1) throw new Error(`${list.length} flow classes named ${key.replace('#', ' (State ')}) are persisted in this process: give them distinct class names so jobs can tell them apart.`);
  return list[0]!;
}

/** What a timer expects of its entity; the store checks it under the row lock (store.ts). */
export interface TimerCheck {
  readonly entity: object;
  /** The state it must still be in, as stored. */
  readonly state: unknown;
  /** The history row that entered it (`null`: not checked). */
  readonly visit: number | string | null;
}
export const timerChecks = new AsyncLocalStorage<TimerCheck>();

/** A timer whose entity left the state (or came back to it since): dropped. */
export class TimerOutdated extends Error {
  override name = 'TimerOutdated';
}

export interface WorkerOptions {
  /** How many jobs this process runs at once (default 4). */
  readonly concurrency?: number;
  /** How often an idle worker looks for due jobs, in ms (default 500; SQLite, MariaDB/MySQL). */
  readonly pollInterval?: number;
  /**
   * How long a job claimed by this worker stays its own without being renewed, in ms (default
   * 30000; SQLite, MariaDB/MySQL). The lease is renewed while the job runs; when the worker dies
   * (kill -9, a lost connection), another worker takes the job once it has run out. On PostgreSQL
   * pg-boss's heartbeat (10 s) does this instead.
   */
  readonly lease?: number;
  /** Runs a durable hook gets before it is given up (default 25; the last error is kept with the job). */
  readonly maxAttempts?: number;
  /**
   * Told of every failed run of a job (the job is retried, or given up after `maxAttempts`).
   * Default: a process warning.
   */
  readonly onError?: (error: unknown, job: Job) => void;
}

export interface Worker {
  /** Stops taking jobs and waits for the ones running. */
  stop(): Promise<void>;
}

/** What became of a job. */
type Outcome = 'done' | 'dropped';

/** Runs one job; resolves with what became of it, rejects to have it retried. */
async function runJob(orm: MikroORM, job: Job, attempt: number): Promise<Outcome> {
  const store = storeFor(job.flow);
  const meta = orm.getMetadata().getByClassName(job.entity, false);
  if (meta === undefined) throw new Error(`entity ${job.entity} is not known to this ORM: add it to MikroORM.init({ entities }).`);
  const em = orm.em.fork();
  const entity = await em.findOne(meta.class, job.id as never);
  if (entity === null) return 'dropped';
  const flow = store.wrap(entity as object, em) as Record<string, (...args: unknown[]) => unknown>;
  if (job.kind === 'timer') {
    try {
      await timerChecks.run({ entity: entity as object, state: job.state, visit: job.visit }, () => flow[job.transition]!());
      return 'done';
    } catch (error) {
      if (error instanceof TimerOutdated || error instanceof ConcurrentTransition || error instanceof TransitionNotAllowed) return 'dropped';
      if (error instanceof TransitionNotPersisted && error.reason === 'missing') return 'dropped';
      throw error;
    }
  }
  const hook = flow[job.hook];
  if (typeof hook !== 'function') throw new Error(`${flow.constructor.name} has no method ${job.hook}() for a durable afterCommit hook.`);
  await hook.call(flow, {
    flow,
    state: store.state,
    transition: job.transition,
    source: job.source,
    target: job.target,
    args: [],
    result: undefined,
    user: undefined,
    actor: job.actor,
    attempt,
  });
  return 'done';
}

function report(options: WorkerOptions, error: unknown, job: Job): void {
  if (options.onError !== undefined) {
    try {
      options.onError(error, job);
      return;
    } catch {
      // fall through to the warning
    }
  }
  const what = job.kind === 'timer' ? `timer ${job.transition}()` : `durable afterCommit hook ${job.hook}()`;
  process.emitWarning(`transitional/mikro-orm: ${what} of ${job.entity} ${JSON.stringify(job.id)} failed: ${error instanceof Error ? error.message : String(error)}`, 'TransitionalWorkerWarning');
}

/**
 * Starts a worker in this process for `orm`'s database: it runs due timers and durable afterCommit
 * hooks of the flows persisted (with a `flow` factory) in this process. Creates the tables it needs
 * (pg-boss's schema on PostgreSQL, `transitional_job` elsewhere) if they do not exist.
 *
 * @example
 * const worker = await startWorker(orm);
 * process.on('SIGTERM', () => worker.stop());
 */
export async function startWorker(orm: MikroORM, options: WorkerOptions = {}): Promise<Worker> {
  const concurrency = options.concurrency ?? 4;
  const pollInterval = options.pollInterval ?? 500;
  const maxAttempts = options.maxAttempts ?? 25;
  const lease = options.lease ?? 30_000;
  if (!(Number.isInteger(concurrency) && concurrency > 0)) throw new TypeError(`startWorker(orm, { concurrency }): a positive integer, got ${String(concurrency)}.`);
  if (!(pollInterval > 0 && Number.isFinite(pollInterval))) throw new TypeError(`startWorker(orm, { pollInterval }): a positive number of ms, got ${String(pollInterval)}.`);
  if (!(Number.isInteger(maxAttempts) && maxAttempts > 0)) throw new TypeError(`startWorker(orm, { maxAttempts }): a positive integer, got ${String(maxAttempts)}.`);
  if (!(Number.isInteger(lease) && lease >= 1000)) throw new TypeError(`startWorker(orm, { lease }): a whole number of ms, at least 1000, got ${String(lease)}.`);
  const em = orm.em.fork();
  if (em.getPlatform() instanceof BasePostgreSqlPlatform) return startPgBossWorker(orm, em, concurrency, maxAttempts, options);
  await createJobTable(em);
  return startTableWorker(orm, concurrency, pollInterval, maxAttempts, lease, options);
}

async function startPgBossWorker(orm: MikroORM, em: EntityManager, concurrency: number, maxAttempts: number, options: WorkerOptions): Promise<Worker> {
  const boss = await startBoss(em, true);
  type BossJob = { id: string; data: Job; retryCount: number };
  const handle = async (jobs: BossJob[]) =>
    Promise.all(
      jobs.map(async (j) => {
        try {
          await runJob(orm, j.data, j.retryCount + 1);
          return { id: j.id, status: 'completed' as const };
        } catch (error) {
          report(options, error, j.data);
          const last = j.data.kind === 'hook' && j.retryCount + 1 >= maxAttempts;
          return { id: j.id, status: last ? ('deadletter' as const) : ('failed' as const), output: { message: error instanceof Error ? error.message : String(error) } };
        }
      }),
    );
  const work = { batchSize: concurrency, pollingIntervalSeconds: 0.5, includeMetadata: true, perJobResults: true, burstWhenBatchFull: true } as const;
  await boss.work(JOB_QUEUE, work, handle as never);
  return {
    async stop() {
      await boss.stop({ graceful: true, close: false, timeout: 30_000 });
    },
  };
}

/** `lease`: long enough for slow jobs (it is renewed while they run), short enough that a dead worker's jobs come back within a minute. */
function startTableWorker(orm: MikroORM, concurrency: number, pollInterval: number, maxAttempts: number, lease: number, options: WorkerOptions): Worker {
  const running = new Map<number, Promise<void>>();
  let stopped = false;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const em = () => orm.em.fork();

  const renewer = setInterval(() => {
    if (running.size !== 0) renew(em(), [...running.keys()], lease).catch(() => {});
  }, lease / 3);
  renewer.unref();

  const run = async (row: ClaimedRow) => {
    try {
      await runJob(orm, row.job, row.attempt);
      await complete(em(), row.id);
    } catch (error) {
      report(options, error, row.job);
      const giveUp = row.job.kind === 'hook' && row.attempt >= maxAttempts;
      await retryLater(em(), row.id, error, giveUp ? undefined : backoff(row.attempt)).catch(() => {});
    }
  };

  const loop = async () => {
    while (!stopped) {
      let claimed: ClaimedRow[] = [];
      const free = concurrency - running.size;
      if (free > 0) {
        try {
          claimed = await claim(em(), free, lease);
        } catch (error) {
          process.emitWarning(`transitional/mikro-orm: the worker could not claim jobs: ${error instanceof Error ? error.message : String(error)}`, 'TransitionalWorkerWarning');
        }
      }
      for (const row of claimed) {
        const p = run(row).finally(() => {
          running.delete(row.id);
          wake?.();
        });
        running.set(row.id, p);
      }
      if (claimed.length !== 0 && claimed.length === free) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, pollInterval);
      });
      wake = undefined;
      clearTimeout(timer);
    }
  };
  const looping = loop();

  return {
    async stop() {
      stopped = true;
      wake?.();
      await looping;
      await Promise.allSettled(running.values());
      clearInterval(renewer);
    },
  };
}

/**
 * Durable work a committed call leaves for a worker (README, Timers and durable hooks): what a job
 * says, which flows a worker can rebuild, and where jobs are kept.
 *
 * Two kinds of job, both recorded in the transaction that commits the call, so a rolled-back call
 * schedules nothing and a crash after the commit loses nothing:
 * - a timer: "call `transition` on this entity at `due`, if it is still in `state` (the same visit)";
 * - a durable `afterCommit` hook: "run `hook` for this committed change", retried until it succeeds.
 *
 * Where they are kept depends on the database: PostgreSQL uses pg-boss (pg-boss-queue.ts), so any
 * number of workers on any number of machines share them; SQLite (and MariaDB/MySQL) use a table
 * of ours (table-queue.ts), served by one worker process per database.
 */

import type { EntityManager, Transaction } from '@mikro-orm/core';
import { BasePostgreSqlPlatform } from '@mikro-orm/sql';
import type { StateValue } from '../core/errors.ts';

/** A timer: call `transition` with no arguments once due, if the entity is still where it was left. */
export interface TimerJob {
  readonly kind: 'timer';
  /** The persisted flow class (registry key, see `flowKey`). */
  readonly flow: string;
  /** Entity name and primary key. */
  readonly entity: string;
  readonly id: unknown;
  readonly transition: string;
  /** The state the committed call left the entity in. */
  readonly state: StateValue;
  /** The history row that entered it (null without history): another visit of the same state does not count. */
  readonly visit: number | string | null;
  /** When it is due, ms since the epoch. */
  readonly due: number;
}

/** A durable afterCommit hook to run for one committed state change. */
export interface HookJob {
  readonly kind: 'hook';
  readonly flow: string;
  readonly entity: string;
  readonly id: unknown;
  /** The hook's method name. */
  readonly hook: string;
  readonly transition: string;
  readonly source: StateValue;
  readonly target: StateValue;
  /** The acting user's history text (`actor`), if any. */
  readonly actor: string | null;
  /** When the change was committed (ISO text). */
  readonly committedAt: string;
}

export type Job = TimerJob | HookJob;

/** Where jobs are kept for one database: recorded inside a transaction, claimed by workers. */
export interface JobQueue {
  /** Records `jobs` in the transaction `trx` of `em` (so they exist only if it commits). */
  record(em: EntityManager, trx: Transaction | undefined, jobs: readonly Job[]): Promise<void>;
}

/** Per database connection (MikroORM's), the queue its jobs go to. */
const queues = new WeakMap<object, Promise<JobQueue>>();

/** How a queue is made for a connection: set by the modules that implement them. */
export interface QueueFactories {
  postgresql(em: EntityManager): Promise<JobQueue>;
  table(em: EntityManager): Promise<JobQueue>;
}
let factories: QueueFactories | undefined;

export function provideQueues(f: QueueFactories): void {
  factories = f;
}

/** The queue jobs of `em`'s database go to, made (and its tables created) on first use. */
export function queueFor(em: EntityManager): Promise<JobQueue> {
  const connection = em.getConnection('write');
  let queue = queues.get(connection);
  if (queue === undefined) {
    if (factories === undefined) throw new Error('transitional/mikro-orm: job queues are not loaded (import transitional/mikro-orm).');
    queue = em.getPlatform() instanceof BasePostgreSqlPlatform ? factories.postgresql(em) : factories.table(em);
    // A failure (say, no permission to create the tables) is not remembered: the next call tries again.
    queue.catch(() => queues.delete(connection));
    queues.set(connection, queue);
  }
  return queue;
}

/** The registry key of a persisted flow class for `state`: what jobs name it by. */
export function flowKey(stateName: string, flowClass: Function): string {
  return `${flowClass.name}#${stateName}`;
}

/** The milliseconds to wait before attempt `attempt + 1` after a failure: 1 s, 2 s, 4 s... up to 5 minutes. */
export function backoff(attempt: number): number {
  return Math.min(300_000, 1000 * 2 ** Math.max(0, attempt - 1));
}

/**
 * One writing process of the fault suite: toggles lamps back to back, every call against a
 * deadline, and reports what happened.
 *
 *   node --import tsx test/faults/toggle-worker.ts '<json Job>'
 *
 * Prints `ready` once connected, then (unless killed first) `result <json Report>` when its time
 * is up; with `final: true` it then waits for a `final` line on stdin, makes one more call and
 * prints `final <json>`.
 */
import { createInterface } from 'node:readline';
import { ConcurrentTransition, TransitionNotPersisted } from 'transitional/mikro-orm';
import { connect, type DatabaseSpec } from '../mikro-orm/fixtures.ts';
import { describeError, settle, sleep } from '../support/deadline.ts';
import { Lamp, LampFlow, VersionedLamp, faultEntities } from './fixtures.ts';

export interface Job {
  readonly spec: DatabaseSpec;
  readonly ids: readonly number[];
  /** How long to write, in ms. */
  readonly duration: number;
  /** A call (load and toggle) that takes longer is a hang: the worker stops writing and reports it. */
  readonly deadline: number;
  readonly poolMax?: number;
  readonly sqliteTimeout?: number;
  /** Sleep up to this many ms inside each body (so that a kill lands mid-transaction). */
  readonly bodyDelay?: number;
  readonly final?: boolean;
  /** Toggle `VersionedLamp`s (with a version property) instead of `Lamp`s. */
  readonly versioned?: boolean;
}

export interface Report {
  ok: number;
  concurrent: number;
  /** TransitionNotPersisted by reason. */
  notPersisted: Record<string, number>;
  /** Errors that are neither: name and message, at most 10. */
  untyped: string[];
  hung: number;
  /** The slowest settled call, in ms. */
  slowest: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const orm = await connect(job.spec, { entities: faultEntities, ...(job.poolMax === undefined ? {} : { poolMax: job.poolMax }), ...(job.sqliteTimeout === undefined ? {} : { sqliteTimeout: job.sqliteTimeout }) });
console.log('ready');

async function call(): Promise<void> {
  const em = orm.em.fork();
  const id = job.ids[Math.floor(Math.random() * job.ids.length)]!;
  const entity = (job.versioned === true ? VersionedLamp : Lamp) as typeof Lamp;
  const flow = new LampFlow(await em.findOneOrFail(entity, id), em);
  if (job.bodyDelay !== undefined) {
    const delay = job.bodyDelay;
    flow.during = (phase) => (phase === 'body' ? sleep(Math.random() * delay) : undefined);
  }
  await flow.toggle();
}

const report: Report = { ok: 0, concurrent: 0, notPersisted: {}, untyped: [], hung: 0, slowest: 0 };
const end = Date.now() + job.duration;
while (Date.now() < end) {
  const outcome = await settle(call(), job.deadline);
  if (outcome.status === 'hung') {
    report.hung++;
    break;
  }
  report.slowest = Math.max(report.slowest, outcome.ms);
  if (outcome.status === 'fulfilled') report.ok++;
  else if (outcome.reason instanceof ConcurrentTransition) report.concurrent++;
  else if (outcome.reason instanceof TransitionNotPersisted) report.notPersisted[outcome.reason.reason] = (report.notPersisted[outcome.reason.reason] ?? 0) + 1;
  else if (report.untyped.length < 10) report.untyped.push(describeError(outcome.reason));
}
console.log(`result ${JSON.stringify(report)}`);

if (job.final === true && report.hung === 0) {
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  for (let next = await lines.next(); next.done !== true && next.value.trim() !== 'final'; next = await lines.next());
  const outcome = await settle(call(), job.deadline);
  console.log(`final ${JSON.stringify(outcome.status === 'rejected' ? { status: 'rejected', error: describeError(outcome.reason) } : { status: outcome.status })}`);
}
// A hung call holds the ORM: do not wait for it to close.
await settle(orm.close(true), 1_000);
process.exit(0);

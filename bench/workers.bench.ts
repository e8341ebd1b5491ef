/**
 * Timers and durable afterCommit hooks (README, Effects after commit; Timers and workers): what they cost the call that records them,
 * and how fast workers run them.
 *
 *   npm run bench:workers                             # SQLite; PostgreSQL too when DATABASE_URL is set
 *
 * (a) The cost a timer and a durable hook add to a persisted transition: the same toggle (load the
 *     row in a fresh entity manager, call the transition: compare-and-set, body, history row,
 *     commit) in four flow classes that differ only in what each call leaves for a worker:
 *     nothing; a timer (every state is a source of a timer transition an hour away); a durable
 *     hook (on every transition); both. No worker runs: the jobs pile up, as they would for timers
 *     far in the future. SQLite file (WAL, our job table) and PostgreSQL (pg-boss), one process,
 *     medians of interleaved rounds as in persistence.bench.ts.
 * (b) Due timers per second on PostgreSQL: a few thousand timers already due (recorded with
 *     `after: 1`, before any worker runs), then 1, 2 and 4 worker processes (`startWorker`,
 *     default concurrency 4) start together, timed until every entity changed state. Each timer
 *     body bumps a counter; afterwards every entity is checked to have changed exactly once.
 * Nothing is asserted but that check: the numbers go into notes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MikroORM, defineEntity, p, type InferEntity } from '@mikro-orm/sql';
import type { EntityManager, MikroORM as Orm } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { State, type HookEvent } from 'transitional';
import { TransitionLog, persistTransitions, sqliteOptions, startWorker } from 'transitional/mikro-orm';
import { interleavedMedians, table } from './harness.ts';

const Row = defineEntity({
  name: 'Row',
  properties: {
    id: p.integer().primary(),
    stage: p.string(),
    touched: p.integer().default(0),
  },
});
type Row = InferEntity<typeof Row>;
type Side = 'a' | 'b' | 'gone';

const HOUR = 3_600_000;

/** The toggle every case runs; subclasses add what a call leaves for a worker. */
function toggleClass(side: State<Side>) {
  class Toggle {
    constructor(
      readonly row: Row,
      readonly em: EntityManager,
    ) {}
    @side.getter() getStage() {
      return this.row.stage as Side;
    }
    @side.setter() setStage(value: Side) {
      this.row.stage = value;
    }
    @side.transition({ source: 'a', target: 'b' })
    async flip() {
      this.row.touched++;
    }
    @side.transition({ source: 'b', target: 'a' })
    async flop() {
      this.row.touched++;
    }
  }
  return Toggle;
}

const plainSide = new State(['a', 'b', 'gone'] as const, { name: 'stage', default: 'a' });
class Plain extends toggleClass(plainSide) {}

const timedSide = new State(['a', 'b', 'gone'] as const, { name: 'stage', default: 'a' });
class Timed extends toggleClass(timedSide) {
  @timedSide.transition({ source: ['a', 'b'], target: 'gone', after: HOUR })
  async vanish() {}
}

const hookedSide = new State(['a', 'b', 'gone'] as const, { name: 'stage', default: 'a' });
class Hooked extends toggleClass(hookedSide) {
  @hookedSide.afterCommit({ durable: true })
  async notify(_event: HookEvent<Side>) {}
}

const bothSide = new State(['a', 'b', 'gone'] as const, { name: 'stage', default: 'a' });
class Both extends toggleClass(bothSide) {
  @bothSide.transition({ source: ['a', 'b'], target: 'gone', after: HOUR })
  async vanish() {}
  @bothSide.afterCommit({ durable: true })
  async notify(_event: HookEvent<Side>) {}
}

type ToggleClass = typeof Plain;
for (const [side, cls] of [[plainSide, Plain], [timedSide, Timed], [hookedSide, Hooked], [bothSide, Both]] as const) {
  persistTransitions(side as State<Side>, cls as ToggleClass, { em: (f) => f.em, entity: (f) => f.row, field: 'stage', flow: (row: Row, em) => new (cls as ToggleClass)(row, em) });
}

// --- Due timers: the flow the workers run --------------------------------------------------------

const Task = defineEntity({
  name: 'Task',
  properties: {
    id: p.integer().primary(),
    stage: p.string(),
    fired: p.integer().default(0),
  },
});
type Task = InferEntity<typeof Task>;
type TaskStage = 'new' | 'waiting' | 'done';
const taskStage = new State(['new', 'waiting', 'done'] as const, { name: 'taskStage', default: 'new' });

class TaskFlow {
  constructor(
    readonly task: Task,
    readonly em: EntityManager,
  ) {}
  @taskStage.getter() getStage() {
    return this.task.stage as TaskStage;
  }
  @taskStage.setter() setStage(value: TaskStage) {
    this.task.stage = value;
  }
  @taskStage.transition({ source: 'new', target: 'waiting' })
  async wait() {}
  @taskStage.transition({ source: 'waiting', target: 'done', after: 1 })
  async fire() {
    this.task.fired++;
  }
}
persistTransitions(taskStage, TaskFlow, { em: (f) => f.em, entity: (f) => f.task, field: 'stage', flow: (task: Task, em) => new TaskFlow(task, em) });

const entities = [Row, Task, TransitionLog];
const ROWS = 100;

/** One transition of `cls` through the integration, on row `id`. */
async function toggle(orm: Orm, cls: ToggleClass, id: number): Promise<void> {
  const em = orm.em.fork();
  const row = await em.findOneOrFail(Row, id);
  const flow = new cls(row, em);
  await (row.stage === 'a' ? flow.flip() : flow.flop());
}

/** Runs the cases interleaved, `rounds` times, and prints medians against the first. */
async function compare(title: string, cases: Array<[string, (id: number) => unknown]>, rounds: number, ms: number): Promise<void> {
  // The warm-up also makes the job queue.
  const median = await interleavedMedians(cases, rounds, ms, ROWS);
  const base = cases[0]![0];
  const us = (name: string) => 1e6 / median(name, 'perSecond');
  console.log(`${title}; medians of ${rounds} interleaved rounds:\n`);
  console.log(
    table([
      ['', 'transitions/s', 'µs each', 'added µs', 'vs plain', 'CPU µs each', 'added CPU µs'],
      ...cases.map(([name]) => [name, median(name, 'perSecond'), us(name), us(name) - us(base), `${(us(name) / us(base)).toFixed(2)}×`, median(name, 'cpu'), median(name, 'cpu') - median(base, 'cpu')]),
    ]),
  );
}

async function seedRows(orm: Orm): Promise<void> {
  const em = orm.em.fork();
  for (let i = 1; i <= ROWS; i++) em.create(Row, { id: i, stage: 'a' });
  await em.flush();
}

function costCases(orm: Orm): Array<[string, (id: number) => unknown]> {
  return [
    ['plain transition', (id) => toggle(orm, Plain, id)],
    ['+ a timer', (id) => toggle(orm, Timed, id)],
    ['+ a durable hook', (id) => toggle(orm, Hooked, id)],
    ['+ a timer and a durable hook', (id) => toggle(orm, Both, id)],
  ];
}

async function sqliteCost(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'transitional-bench-'));
  const orm = await MikroORM.init({ ...sqliteOptions(join(dir, 'bench.sqlite')), entities });
  try {
    await orm.schema.create();
    await seedRows(orm);
    await compare('(a) SQLite file (WAL), one process, a fresh entity manager per transition, jobs in transitional_job', costCases(orm), 9, 500);
  } finally {
    await orm.close(true);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pgOrm(url: string, schema: string, poolMax: number): Promise<Orm> {
  return MikroORM.init({ driver: PostgreSqlDriver, clientUrl: url, schema, entities, pool: { min: 1, max: poolMax } });
}

async function dropSchemas(orm: Orm, schema: string): Promise<void> {
  await orm.em.getConnection().execute(`drop schema if exists "${schema}_jobs" cascade`);
  await orm.em.getConnection().execute(`drop schema if exists "${schema}" cascade`);
}

async function pgCost(url: string): Promise<void> {
  const schema = `transitional_bench_w${process.pid}`;
  const orm = await pgOrm(url, schema, 4);
  try {
    await orm.schema.create();
    await seedRows(orm);
    console.log('');
    await compare('(a) PostgreSQL, one process, a fresh entity manager per transition, jobs in pg-boss', costCases(orm), 7, 500);
  } finally {
    await dropSchemas(orm, schema);
    await orm.close(true);
  }
}

// --- (b) due timers per second, N worker processes --------------------------------------------

interface WorkerJob {
  readonly url: string;
  readonly schema: string;
  readonly concurrency: number;
}

/** A worker process: connects, says `ready`, starts the worker on `go`, stops on `stop`. */
async function workerProcess(job: WorkerJob): Promise<void> {
  const orm = await pgOrm(job.url, job.schema, job.concurrency + 2);
  await orm.em.fork().count(Task, {}); // connected
  console.log('ready');
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  await lines.next();
  const cpu = process.cpuUsage();
  const worker = await startWorker(orm, { concurrency: job.concurrency });
  await lines.next();
  const used = process.cpuUsage(cpu);
  const stopping = performance.now();
  await worker.stop();
  console.log(`done ${(used.user + used.system) / 1000} ${Math.round(performance.now() - stopping)}`);
  await orm.close(true);
  process.exit(0);
}

async function recordDueTimers(orm: Orm, count: number): Promise<number> {
  await orm.em.getConnection().execute(`truncate table "${(orm.config.get('schema') as string)}"."task"`);
  const em = orm.em.fork();
  for (let i = 1; i <= count; i++) em.create(Task, { id: i, stage: 'new' });
  await em.flush();
  const started = performance.now();
  let next = 1;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next <= count) {
        const id = next++;
        const fork = orm.em.fork();
        await new TaskFlow(await fork.findOneOrFail(Task, id), fork).wait();
      }
    }),
  );
  return (count * 1000) / (performance.now() - started);
}

async function pgThroughput(url: string): Promise<void> {
  const TIMERS = 3000;
  const schema = `transitional_bench_t${process.pid}`;
  const orm = await pgOrm(url, schema, 10);
  const self = fileURLToPath(import.meta.url);
  const rows: Array<Array<string | number>> = [];
  let recordRate = 0;
  try {
    await orm.schema.create();
    let single = 0;
    for (const [workers, concurrency] of [[1, 4], [2, 4], [4, 4], [1, 16]] as const) {
      recordRate = await recordDueTimers(orm, TIMERS);
      const children = Array.from({ length: workers }, () =>
        spawn(process.execPath, ['--import', 'tsx', self, '--worker', JSON.stringify({ url, schema, concurrency } satisfies WorkerJob)], { stdio: ['pipe', 'pipe', 'inherit'] }),
      );
      const outputs = children.map((c) => createInterface({ input: c.stdout! })[Symbol.asyncIterator]());
      await Promise.all(outputs.map((o) => o.next()));
      const started = performance.now();
      for (const c of children) c.stdin!.write('go\n');
      let done = 0;
      while (done < TIMERS) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        done = await orm.em.fork().count(Task, { stage: 'done' });
      }
      const elapsed = performance.now() - started;
      for (const c of children) c.stdin!.write('stop\n');
      const reports = await Promise.all(outputs.map(async (o) => String((await o.next()).value).split(' ').slice(1).map(Number)));
      const wrong = await orm.em.fork().count(Task, { $or: [{ stage: { $ne: 'done' } }, { fired: { $ne: 1 } }] });
      if (wrong !== 0) throw new Error(`${wrong} task(s) did not fire exactly once`);
      const perSecond = (TIMERS * 1000) / elapsed;
      if (workers === 1 && concurrency === 4) single = perSecond;
      const cpu = reports.reduce((a, [ms]) => a + ms!, 0);
      const stop = Math.max(...reports.map(([, ms]) => ms!));
      rows.push([`${workers} process${workers === 1 ? '' : 'es'}, concurrency ${concurrency}`, perSecond, `${(perSecond / single).toFixed(2)}×`, (cpu * 1000) / TIMERS, stop]);
    }
  } finally {
    await dropSchemas(orm, schema);
    await orm.close(true);
  }
  console.log(`\n(b) PostgreSQL, ${TIMERS} due timers, N worker processes started together, until every entity changed (${availableParallelism()} CPU cores shared with the server):\n`);
  console.log(table([['', 'timers/s', 'vs 1', 'worker CPU µs per timer', 'stop() ms'], ...rows]));
  console.log(`\n(recording those timers: ${recordRate.toFixed(0)} calls/s from one process, 8 at a time)`);
}

const workerFlag = process.argv.indexOf('--worker');
if (workerFlag !== -1) {
  await workerProcess(JSON.parse(process.argv[workerFlag + 1]!) as WorkerJob);
} else {
  await sqliteCost();
  const url = process.env.DATABASE_URL;
  if (url) {
    await pgCost(url);
    await pgThroughput(url);
  } else {
    console.log('\n(PostgreSQL parts not run: set DATABASE_URL, e.g. postgresql://postgres@127.0.0.1:5432/test)');
  }
}

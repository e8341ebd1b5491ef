/**
 * Persisted transitions per second.
 *
 *   npm run bench:persistence                         # SQLite; PostgreSQL too when DATABASE_URL is set
 *
 * SQLite (one file, WAL, node:sqlite), one process, a fresh entity manager per transition as a
 * request handler would have, each transition on the next of 100 rows:
 * - transitional/mikro-orm: load the row, call the transition (compare-and-set, body, history
 *   row, flush, commit);
 * - by hand with MikroORM: `em.transactional`: load, check the state, set it, create the log
 *   entity, flush;
 * - raw node:sqlite: BEGIN IMMEDIATE, `UPDATE ... WHERE id = ? AND stage = ?`, INSERT, COMMIT
 *   (the floor).
 * PostgreSQL: 1, 2, 4 and 8 worker processes, each on its own rows, for a fixed time.
 * Nothing is asserted: the numbers go into notes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { DatabaseSync } from 'node:sqlite';
import { MikroORM, defineEntity, p, type EntityManager, type InferEntity } from '@mikro-orm/sql';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { State } from 'transitional';
import { TransitionLog, persistTransitions, sqliteOptions } from 'transitional/mikro-orm';
import { interleavedMedians, measureStep, table } from './harness.ts';

const Row = defineEntity({
  name: 'Row',
  properties: {
    id: p.integer().primary(),
    stage: p.string(),
    touched: p.integer().default(0),
  },
});
type Row = InferEntity<typeof Row>;

const side = new State(['a', 'b'] as const, { name: 'stage', default: 'a' });
type Side = 'a' | 'b';

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
persistTransitions(side, Toggle, { em: (f) => f.em, entity: (f) => f.row, field: 'stage', actor: () => 'bench' });

const ROWS = 100;

/** One transition through the integration. */
async function viaIntegration(orm: MikroORM, id: number): Promise<void> {
  const em = orm.em.fork();
  const row = await em.findOneOrFail(Row, id);
  const flow = new Toggle(row, em);
  await (row.stage === 'a' ? flow.flip() : flow.flop());
}

/** The same by hand: load, check, set, log, flush in a transaction. */
async function byHand(orm: MikroORM, id: number): Promise<void> {
  await orm.em.fork().transactional(async (em) => {
    const row = await em.findOneOrFail(Row, id);
    const source = row.stage;
    if (source !== 'a' && source !== 'b') throw new Error(`unexpected ${source}`);
    const target = source === 'a' ? 'b' : 'a';
    row.stage = target;
    row.touched++;
    em.create(TransitionLog, { entity: 'Row', entityId: String(id), field: 'stage', transition: source === 'a' ? 'flip' : 'flop', source, target, actor: 'bench', createdAt: new Date() });
  });
}

/** The floor: prepared statements on node:sqlite. */
function rawStatements(db: DatabaseSync): (id: number) => void {
  const read = db.prepare('select stage from row where id = ?');
  const update = db.prepare('update row set stage = ?, touched = touched + 1 where id = ? and stage = ?');
  const insert = db.prepare('insert into transition_log (entity, entity_id, field, transition, source, target, actor, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)');
  return (id) => {
    db.exec('begin immediate');
    try {
      const source = (read.get(id) as { stage: string }).stage;
      const target = source === 'a' ? 'b' : 'a';
      if (update.run(target, id, source).changes !== 1) throw new Error('lost the race');
      insert.run('Row', String(id), 'stage', source === 'a' ? 'flip' : 'flop', source, target, 'bench', Date.now());
      db.exec('commit');
    } catch (error) {
      db.exec('rollback');
      throw error;
    }
  };
}

/** Transitions per second of `step` over `ms` milliseconds, cycling through the rows. */
async function rate(step: (id: number) => unknown, ms: number): Promise<number> {
  return (await measureStep(step, ms, ROWS)).perSecond;
}

/** Runs the cases interleaved, `rounds` times, and prints medians against the hand-written one. */
async function compare(title: string, cases: Array<[string, (id: number) => unknown]>, rounds: number, ms: number): Promise<void> {
  const median = await interleavedMedians(cases, rounds, ms, ROWS);
  const hand = 'by hand with MikroORM';
  console.log(`${title}; medians of ${rounds} interleaved rounds:\n`);
  console.log(
    table([
      ['', 'transitions/s', 'µs each', 'vs by hand', 'CPU µs each', 'CPU vs by hand'],
      ...cases.map(([name]) => [
        name,
        median(name, 'perSecond'),
        1e6 / median(name, 'perSecond'),
        `${(median(hand, 'perSecond') / median(name, 'perSecond')).toFixed(2)}×`,
        median(name, 'cpu'),
        `${(median(name, 'cpu') / median(hand, 'cpu')).toFixed(2)}×`,
      ]),
    ]),
  );
}

async function seed(orm: MikroORM, first: number, count: number): Promise<void> {
  const em = orm.em.fork();
  for (let i = 0; i < count; i++) em.create(Row, { id: first + i, stage: 'a' });
  await em.flush();
}

async function sqliteBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'transitional-bench-'));
  const file = join(dir, 'bench.sqlite');
  const orm = await MikroORM.init({ ...sqliteOptions(file), entities: [Row, TransitionLog] });
  await orm.schema.create();
  await seed(orm, 1, ROWS);
  const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite');
  const raw = new DatabaseSync(file, { timeout: 5000 });
  const rawStep = rawStatements(raw);

  await compare('SQLite file (WAL), one process, a fresh entity manager per transition', [
    ['transitional/mikro-orm', (id) => viaIntegration(orm, id)],
    ['by hand with MikroORM', (id) => byHand(orm, id)],
    ['raw node:sqlite', rawStep],
  ], 9, 500);
  raw.close();
  await orm.close(true);
  rmSync(dir, { recursive: true, force: true });
}

// --- PostgreSQL: worker processes on distinct rows ------------------------------------------

interface WorkerJob {
  readonly url: string;
  readonly schema: string;
  readonly first: number;
}

async function pgWorker(job: WorkerJob): Promise<void> {
  const orm = await MikroORM.init({ driver: PostgreSqlDriver, clientUrl: job.url, schema: job.schema, entities: [Row, TransitionLog], pool: { min: 1, max: 2 } });
  const step = (i: number) => viaIntegration(orm, job.first + ((i - 1) % ROWS));
  await rate(step, 1000); // warm-up: JIT and pool
  console.log('ready');
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const go = await lines.next();
  const ms = Number(String(go.value).split(' ')[1]);
  let n = 0;
  const cpu = process.cpuUsage();
  const end = performance.now() + ms;
  while (performance.now() < end) await step(++n);
  const used = process.cpuUsage(cpu);
  console.log(`done ${n} ${(used.user + used.system) / n}`);
  await orm.close(true);
  process.exit(0);
}

async function pgBench(url: string): Promise<void> {
  const schema = `transitional_bench_${process.pid}`;
  const orm = await MikroORM.init({ driver: PostgreSqlDriver, clientUrl: url, schema, entities: [Row, TransitionLog] });
  await orm.schema.create();
  // One process: the integration against the same by hand, as on SQLite.
  await seed(orm, 1, ROWS);
  console.log('');
  await compare('PostgreSQL, one process, a fresh entity manager per transition', [
    ['transitional/mikro-orm', (id) => viaIntegration(orm, id)],
    ['by hand with MikroORM', (id) => byHand(orm, id)],
  ], 7, 500);

  const self = fileURLToPath(import.meta.url);
  const node = process.execPath;
  const rows: Array<[string, number, number, string, number]> = [];
  let single = 0;
  try {
    for (const workers of [1, 2, 4, 8]) {
      await orm.em.getConnection().execute(`truncate table "${schema}"."row", "${schema}"."transition_log"`);
      for (let w = 0; w < workers; w++) await seed(orm, 1 + w * ROWS, ROWS);
      const children = Array.from({ length: workers }, (_, w) =>
        spawn(node, ['--import', 'tsx', self, '--pg-worker', JSON.stringify({ url, schema, first: 1 + w * ROWS } satisfies WorkerJob)], { stdio: ['pipe', 'pipe', 'inherit'] }),
      );
      const outputs = children.map((c) => createInterface({ input: c.stdout! })[Symbol.asyncIterator]());
      await Promise.all(outputs.map((o) => o.next()));
      const ms = 3000;
      for (const c of children) c.stdin!.write(`go ${ms}\n`);
      const done = await Promise.all(outputs.map(async (o) => String((await o.next()).value).split(' ').slice(1).map(Number)));
      const total = (done.reduce((a, [n]) => a + n!, 0) * 1000) / ms;
      const cpu = done.reduce((a, [, c]) => a + c!, 0) / workers;
      if (workers === 1) single = total;
      rows.push([`${workers} process${workers === 1 ? '' : 'es'}`, total, total / workers, `${(total / single).toFixed(2)}×`, cpu]);
    }
  } finally {
    await orm.em.getConnection().execute(`drop schema if exists "${schema}" cascade`);
    await orm.close(true);
  }
  console.log(`\nPostgreSQL, transitional/mikro-orm, N worker processes on distinct rows (3 s each, ${availableParallelism()} CPU cores shared with the server):\n`);
  console.log(table([['', 'transitions/s', 'per process', 'vs 1', 'client CPU µs each'], ...rows]));
}

const workerFlag = process.argv.indexOf('--pg-worker');
if (workerFlag !== -1) {
  await pgWorker(JSON.parse(process.argv[workerFlag + 1]!) as WorkerJob);
} else {
  await sqliteBench();
  const url = process.env.DATABASE_URL;
  if (url) await pgBench(url);
  else console.log('\n(PostgreSQL part not run: set DATABASE_URL, e.g. postgresql://postgres@127.0.0.1:5432/test)');
}

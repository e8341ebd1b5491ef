/**
 * How long the admin view takes to render its pages over a realistic table, and which indexes its
 * queries use.
 *
 *   npm run bench:admin
 *
 * SQLite (one file, WAL, node:sqlite), 10,000 tickets spread over 5 states and 100,000 history
 * rows (10 per ticket), through `adminHandler` (no HTTP server, no browser: the handler's own
 * time). Pages: the index (counts per state and the diagram), the first page of the largest
 * state, and an entity page (the entity, its history, its actions). First without an index on the
 * state column (the user's schema may lack one), then with one. Each query the pages run is shown
 * with SQLite's `explain query plan`. Nothing is asserted: the numbers go into notes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { MikroORM, defineEntity, p, type EntityManager, type InferEntity } from '@mikro-orm/sql';
import { State } from 'transitional';
import { TransitionLog, persistTransitions, sqliteOptions } from 'transitional/mikro-orm';
import { adminHandler } from 'transitional/admin';
import { table } from './harness.ts';

const TICKETS = 10_000;
const HISTORY_PER_TICKET = 10;

const Ticket = defineEntity({
  name: 'Ticket',
  properties: {
    id: p.integer().primary(),
    title: p.string(),
    stage: p.string(),
    assignee: p.string().nullable(),
  },
});
type Ticket = InferEntity<typeof Ticket>;

const stages = ['open', 'assigned', 'review', 'done', 'closed'] as const;
type Stage = (typeof stages)[number];
const stage = new State(stages, { name: 'stage', default: 'open', labels: { review: 'In review' } });

class TicketFlow {
  constructor(
    readonly ticket: Ticket,
    readonly em: EntityManager,
  ) {}
  @stage.getter() getStage() {
    return this.ticket.stage as Stage;
  }
  @stage.setter() setStage(value: Stage) {
    this.ticket.stage = value;
  }
  @stage.transition({ source: 'open', target: 'assigned' }) async assign() {}
  @stage.transition({ source: 'assigned', target: 'review', conditions: [(f: TicketFlow) => ({ ok: f.ticket.assignee !== null, reason: 'nobody is assigned' })] }) async submit() {}
  @stage.transition({ source: 'review', target: 'done' }) async approve() {}
  @stage.transition({ source: 'done', target: 'closed' }) async close() {}
  @stage.transition({ source: ['assigned', 'review'], target: 'open' }) async reopen() {}
}
persistTransitions(stage, TicketFlow, { em: (f) => f.em, entity: (f) => f.ticket, field: 'stage', flow: (t: Ticket, em) => new TicketFlow(t, em as EntityManager) });

const dir = mkdtempSync(join(tmpdir(), 'transitional-admin-bench-'));
const file = join(dir, 'admin.sqlite');
const captured: { sql: string; params: readonly unknown[] }[] = [];
let capturing = false;
const orm = await MikroORM.init({
  ...sqliteOptions(file),
  entities: [Ticket, TransitionLog],
  onQuery: (sql, params) => {
    if (capturing) captured.push({ sql, params });
    return sql;
  },
});

try {
  await orm.schema.create();
  const seedStart = performance.now();
  // Tickets newest-heavy in the later states, like a real queue: 40% closed, 15% each elsewhere.
  const stageOf = (i: number): Stage => (i % 20 < 8 ? 'closed' : stages[i % 4]!);
  for (let from = 0; from < TICKETS; from += 1000) {
    await orm.em.fork().insertMany(
      Ticket,
      Array.from({ length: 1000 }, (_, k) => ({ id: from + k + 1, title: `Ticket ${from + k + 1}`, stage: stageOf(from + k), assignee: k % 3 === 0 ? null : 'ann' })),
    );
  }
  const at = new Date('2026-01-01T00:00:00Z').getTime();
  for (let from = 0; from < TICKETS; from += 500) {
    const rows = [];
    for (let i = from; i < from + 500; i++) {
      for (let h = 0; h < HISTORY_PER_TICKET; h++) {
        rows.push({ entity: 'Ticket', entityId: String(i + 1), field: 'stage', transition: h % 2 ? 'reopen' : 'assign', source: h % 2 ? 'assigned' : 'open', target: h % 2 ? 'open' : 'assigned', actor: 'ann', createdAt: new Date(at + (i * HISTORY_PER_TICKET + h) * 1000) });
      }
    }
    await orm.em.fork().insertMany(TransitionLog, rows);
  }
  console.log(`seeded ${TICKETS} tickets and ${TICKETS * HISTORY_PER_TICKET} history rows in ${((performance.now() - seedStart) / 1000).toFixed(1)} s (${file})`);

  const handler = adminHandler({ orm, flows: [{ flow: TicketFlow, state: stage, entity: Ticket, title: 'Tickets' }], user: () => ({ id: 'ann' }) });
  const get = async (path: string) => {
    const res = await handler(new Request(`http://bench${path}`));
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.slice(0, 500)}`);
    return body;
  };
  const pages = {
    index: () => '/',
    'state list (closed, 4,000 entities, first page of 50)': () => '/flows/TicketFlow/states/closed',
    'state list, 40th page (keyset)': () => '/flows/TicketFlow/states/closed?before=2000',
    'entity page (10 history rows)': (i: number) => `/flows/TicketFlow/entities/${1 + ((i * 7919) % TICKETS)}`,
  } as const;

  /** ms per render: the first one (cold) and the median of `n` more. */
  async function time(path: (i: number) => string, n = 40): Promise<{ first: number; median: number }> {
    let t = performance.now();
    await get(path(0));
    const first = performance.now() - t;
    const samples: number[] = [];
    for (let i = 1; i <= n; i++) {
      t = performance.now();
      await get(path(i));
      samples.push(performance.now() - t);
    }
    samples.sort((a, b) => a - b);
    return { first, median: samples[Math.floor(samples.length / 2)]! };
  }

  /** Each distinct query a page runs, with SQLite's plan (read on a connection of its own). */
  async function plans(path: string): Promise<string[]> {
    captured.length = 0;
    capturing = true;
    await get(path);
    capturing = false;
    const seen = new Set<string>();
    const out: string[] = [];
    const db = new DatabaseSync(file, { readOnly: true });
    for (const { sql, params } of captured) {
      if (seen.has(sql)) continue;
      seen.add(sql);
      const plan = db.prepare(`explain query plan ${sql}`).all(...(params as never[])) as { detail: string }[];
      out.push(`  ${sql}\n    → ${plan.map((r) => r.detail).join('; ')}`);
    }
    db.close();
    return out;
  }

  for (const round of ['without an index on ticket.stage', 'with an index on ticket.stage'] as const) {
    if (round === 'with an index on ticket.stage') {
      await orm.em.getConnection().execute('create index ticket_stage_index on ticket (stage)');
      await orm.em.getConnection().execute('analyze');
    }
    const rows: (string | number)[][] = [['page', 'first (ms)', 'median (ms)']];
    for (const [name, path] of Object.entries(pages)) {
      const { first, median } = await time(path);
      rows.push([name, first, median]);
    }
    console.log(`\n${round}:\n${table(rows)}`);
    console.log(`\nqueries (${round}):`);
    for (const [name, path] of Object.entries(pages)) console.log(`${name}\n${(await plans(path(1))).join('\n')}`);
  }
} finally {
  await orm.close(true);
  rmSync(dir, { recursive: true, force: true });
}

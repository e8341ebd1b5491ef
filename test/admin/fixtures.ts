/**
 * The admin view's test setup: two persisted flows (tickets with a condition, a permission and an
 * input schema; "oddities" whose definitions and rows are hostile), the users, and a database of
 * either kind (a SQLite file always, PostgreSQL when DATABASE_URL is set, required under CI).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM, defineEntity, p, type InferEntity } from '@mikro-orm/sql';
import type { EntityManager, MikroORM as Orm } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { State } from 'transitional';
import { TransitionLog, persistTransitions, sqliteOptions } from 'transitional/mikro-orm';
import type { AdminOptions } from 'transitional/admin';

/** Markup that would run if anything were not escaped: in an entity's fields, a state's label and a transition's label. */
export const HOSTILE = `<script>window.__pwned=1</script>"'</svg><img src=x onerror="window.__pwned=2">`;

export interface User {
  readonly id: string;
  readonly name: string;
  readonly role: 'lead' | 'agent';
}
export const users: Record<string, User> = {
  alice: { id: 'alice', name: 'Alice', role: 'lead' },
  bob: { id: 'bob', name: 'Bob', role: 'agent' },
};

export const Ticket = defineEntity({
  name: 'Ticket',
  properties: {
    id: p.integer().primary(),
    title: p.string(),
    stage: p.string().nullable(),
    assignee: p.string().nullable(),
    note: p.string().nullable(),
    closedBecause: p.string().nullable(),
  },
});
export type Ticket = InferEntity<typeof Ticket>;

export const stages = ['open', 'assigned', 'review', 'done', 'closed'] as const;
export type Stage = (typeof stages)[number];
export const stage = new State(stages, { name: 'stage', default: 'open', labels: { assigned: 'Assigned', review: 'In review', done: 'Done' } });

export class TicketFlow {
  constructor(
    readonly ticket: Ticket,
    readonly em: EntityManager,
  ) {}
  @stage.getter() getStage() {
    return this.ticket.stage as Stage | null;
  }
  @stage.setter() setStage(value: Stage) {
    this.ticket.stage = value;
  }

  @stage.transition({ source: 'open', target: 'assigned', label: 'Assign to me' })
  async assign() {
    this.ticket.assignee = 'someone';
  }

  @stage.transition({ source: 'assigned', target: 'review', label: 'Send to review', conditions: [(flow: TicketFlow) => ({ ok: !!flow.ticket.note, reason: 'write a note first' })] })
  async submit() {}

  @stage.transition({ source: 'review', target: 'done', permission: (_flow: TicketFlow, user: User | undefined) => user?.role === 'lead' })
  async approve() {}

  @stage.transition({ source: 'done', target: 'closed', input: z.object({ because: z.string().min(3) }) })
  async close(reason: { because: string }) {
    this.ticket.closedBecause = reason.because;
  }

  @stage.transition({ source: ['assigned', 'review'], target: 'open' })
  async reopen() {
    this.ticket.assignee = null;
  }
}

persistTransitions(stage, TicketFlow, {
  em: (flow) => flow.em,
  entity: (flow) => flow.ticket,
  flow: (ticket: Ticket, em) => new TicketFlow(ticket, em),
  field: 'stage',
  actor: (_flow, user: User | undefined) => user?.name,
});

/** A hostile entity: its key, its fields and its flow's labels hold markup. The state lives in a camelCase property. */
export const Oddity = defineEntity({
  name: 'Oddity',
  properties: {
    code: p.string().primary(),
    title: p.string(),
    currentPhase: p.string().default('draft'),
  },
});
export type Oddity = InferEntity<typeof Oddity>;

export const phase = new State(['draft', 'live'] as const, { name: 'phase', default: 'draft', labels: { live: `Live ${HOSTILE}` } });

export class OddityFlow {
  constructor(
    readonly oddity: Oddity,
    readonly em: EntityManager,
  ) {}
  @phase.getter() getPhase() {
    return this.oddity.currentPhase as 'draft' | 'live';
  }
  @phase.setter() setPhase(value: 'draft' | 'live') {
    this.oddity.currentPhase = value;
  }
  @phase.transition({ source: 'draft', target: 'live', label: `Publish ${HOSTILE}` })
  async publish() {}
}

persistTransitions(phase, OddityFlow, {
  em: (flow) => flow.em,
  entity: (flow) => flow.oddity,
  flow: (oddity: Oddity, em) => new OddityFlow(oddity, em),
  field: 'currentPhase',
  actor: (_flow, user: User | undefined) => (user === undefined ? undefined : `${user.name} ${HOSTILE}`),
});

export const entities = [Ticket, Oddity, TransitionLog];

/** The admin options the tests use: the user is named by a `who` cookie. */
export function adminOptions(orm: Orm, extra: Partial<AdminOptions<User>> = {}): AdminOptions<User> {
  return {
    orm,
    flows: [
      { flow: TicketFlow, state: stage, entity: Ticket, title: 'Tickets' },
      { flow: OddityFlow, state: phase, entity: Oddity, title: `Oddities ${HOSTILE}` },
    ],
    user: (request) => users[/(?:^|;\s*)who=([a-z]+)/.exec(request.headers.get('cookie') ?? '')?.[1] ?? ''],
    ...extra,
  };
}

export interface Database {
  readonly kind: 'sqlite' | 'postgresql';
  readonly orm: Orm;
  fork(): EntityManager;
  dispose(): Promise<void>;
}

let counter = 0;

/** A fresh database of `kind` with the tables of `entities`. */
export async function createDatabase(kind: 'sqlite' | 'postgresql'): Promise<Database> {
  let orm: Orm;
  let dir: string | undefined;
  let schema: string | undefined;
  if (kind === 'sqlite') {
    dir = mkdtempSync(join(tmpdir(), 'transitional-admin-'));
    orm = await MikroORM.init({ ...sqliteOptions(join(dir, 'admin.sqlite')), entities });
  } else {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is not set');
    schema = `transitional_admin_${process.pid}_${Date.now().toString(36)}_${counter++}`;
    orm = await MikroORM.init({ driver: PostgreSqlDriver, clientUrl: url, schema, entities, pool: { min: 0, max: 4 } });
  }
  await orm.schema.create();
  return {
    kind,
    orm,
    fork: () => orm.em.fork(),
    async dispose() {
      if (schema !== undefined) await orm.em.getConnection().execute(`drop schema if exists "${schema}" cascade`);
      await Promise.race([orm.close(true).catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2000))]);
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The databases to test against: SQLite always, PostgreSQL when DATABASE_URL is set. Under
 * `CI=true` a missing DATABASE_URL is returned as `missing`, for the caller to fail on.
 */
export function databaseKinds(): { kinds: Array<'sqlite' | 'postgresql'>; missing: string | undefined } {
  if (process.env.DATABASE_URL) return { kinds: ['sqlite', 'postgresql'], missing: undefined };
  const missing = process.env.CI === 'true' ? 'CI=true but DATABASE_URL is not set: the PostgreSQL admin tests cannot run (see .ci/run).' : undefined;
  if (missing === undefined) console.log('# DATABASE_URL is not set: the PostgreSQL variants of the admin tests are not run.');
  return { kinds: ['sqlite'], missing };
}

/** Seeds tickets and an oddity; returns their keys. */
export async function seed(db: Database): Promise<{ open: number; assigned: number; review: number; done: number; oddity: string }> {
  const em = db.fork();
  const open = em.create(Ticket, { title: 'Printer on fire', stage: null });
  const assigned = em.create(Ticket, { title: 'No note yet', stage: 'assigned', assignee: 'bob' });
  const review = em.create(Ticket, { title: 'Needs a lead', stage: 'review', note: 'done it' });
  const done = em.create(Ticket, { title: 'Finished', stage: 'done' });
  const oddity = em.create(Oddity, { code: `x'"<b>/1`, title: HOSTILE });
  await em.flush();
  return { open: open.id, assigned: assigned.id, review: review.id, done: done.id, oddity: oddity.code };
}

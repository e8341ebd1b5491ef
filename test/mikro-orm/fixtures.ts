/**
 * Shared by the MikroORM tests and the race workers: entities, persisted flows, and the databases
 * to run against (a SQLite file always; PostgreSQL when DATABASE_URL is set, required under CI).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM, defineEntity, p, type InferEntity } from '@mikro-orm/sql';
import type { EntityManager, MikroORM as Orm } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { State } from 'transitional';
import { TransitionLog, persistTransitions, sqliteOptions } from 'transitional/mikro-orm';

export const Ticket = defineEntity({
  name: 'Ticket',
  properties: {
    id: p.integer().primary(),
    title: p.string(),
    stage: p.string(),
    assignee: p.string().nullable(),
    resolution: p.string().nullable(),
    priority: p.string().default('normal'),
    code: p.string().nullable().unique(),
    /** Bumped by every winning transition of the race: a lost update would show. */
    counter: p.integer().default(0),
  },
});
export type Ticket = InferEntity<typeof Ticket>;

export const Comment = defineEntity({
  name: 'Comment',
  properties: {
    id: p.integer().primary(),
    ticketId: p.integer(),
    text: p.string(),
  },
});
export type Comment = InferEntity<typeof Comment>;

export const stages = ['open', 'assigned', 'resolved', 'closed', 'failed'] as const;
export type Stage = (typeof stages)[number];
export const stage = new State(stages, { name: 'stage', default: 'open' });

/** The flow the behaviour tests drive: persisted with TransitionLog and an actor. */
export class TicketFlow {
  constructor(
    readonly ticket: Ticket,
    readonly em: EntityManager,
    readonly user?: string,
  ) {}

  @stage.getter() getStage() {
    return this.ticket.stage as Stage;
  }
  @stage.setter() setStage(value: Stage) {
    this.ticket.stage = value;
  }

  @stage.transition({ source: 'open', target: 'assigned' })
  async assign(user: string) {
    this.ticket.assignee = user;
    this.ticket.counter++;
  }

  @stage.transition({ source: 'assigned', target: 'resolved' })
  async resolve(resolution: string) {
    this.ticket.resolution = resolution;
    this.ticket.counter++;
  }

  @stage.transition({ source: 'resolved', target: 'closed' })
  async close() {
    this.ticket.counter++;
  }

  /** A chain: open → assigned → resolved → closed in one call. */
  @stage.transition({ source: 'open', target: 'assigned' })
  async fix(user: string, resolution: string) {
    this.ticket.assignee = user;
    await this.resolve(resolution);
    await this.close();
  }

  /** Changes the ticket, then fails. */
  @stage.transition({ source: 'assigned', target: 'resolved' })
  async resolveBadly(resolution: string) {
    this.ticket.resolution = resolution;
    this.ticket.priority = 'high';
    throw new Error('the resolution service is down');
  }

  /** Fails into `failed`: only that move and its history row are committed. */
  @stage.transition({ source: 'open', target: 'assigned', onError: 'failed' })
  async assignRisky(user: string) {
    this.ticket.assignee = user;
    this.ticket.priority = 'urgent';
    throw new Error('could not notify ' + user);
  }

  /** Assigns, then runs `during` inside the transition (to close the connection, clash on a constraint...). */
  @stage.transition({ source: 'open', target: 'assigned' })
  async assignDuring(user: string, during: (flow: TicketFlow) => unknown) {
    this.ticket.assignee = user;
    await during(this);
  }
}

persistTransitions(stage, TicketFlow, {
  em: (flow) => flow.em,
  entity: (flow) => flow.ticket,
  actor: (flow) => flow.user,
});

export const entities = [Ticket, Comment, TransitionLog];

/** What a worker process needs to open the same database. */
export type DatabaseSpec = { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'postgresql'; readonly url: string; readonly schema: string };

export interface Database {
  readonly name: 'sqlite' | 'postgresql';
  readonly spec: DatabaseSpec;
  readonly orm: Orm;
  /** A fresh entity manager. */
  fork(): EntityManager;
  /** Opens another ORM (another connection or pool) on the same database. */
  reopen(): Promise<Orm>;
  /** Closes the ORM and drops the database (file or schema). */
  dispose(): Promise<void>;
}

export async function connect(spec: DatabaseSpec, debug = false): Promise<Orm> {
  if (spec.kind === 'sqlite') return MikroORM.init({ ...sqliteOptions(spec.file), entities, debug });
  return MikroORM.init({ driver: PostgreSqlDriver, clientUrl: spec.url, schema: spec.schema, entities, debug, pool: { min: 0, max: 8 } });
}

let counter = 0;

/** Creates a fresh database of `kind` with the schema of `entities`. */
export async function createDatabase(kind: 'sqlite' | 'postgresql'): Promise<Database> {
  let spec: DatabaseSpec;
  let dir: string | undefined;
  if (kind === 'sqlite') {
    dir = mkdtempSync(join(tmpdir(), 'transitional-'));
    spec = { kind, file: join(dir, 'test.sqlite') };
  } else {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is not set');
    spec = { kind, url, schema: `transitional_${process.pid}_${Date.now().toString(36)}_${counter++}` };
  }
  const orm = await connect(spec);
  await orm.schema.create();
  const opened: Orm[] = [orm];
  return {
    name: kind,
    spec,
    orm,
    fork: () => orm.em.fork(),
    async reopen() {
      const other = await connect(spec);
      opened.push(other);
      return other;
    },
    async dispose() {
      if (spec.kind === 'postgresql') {
        const admin = await connect(spec);
        await admin.em.getConnection().execute(`drop schema if exists "${spec.schema}" cascade`);
        await admin.close(true);
      }
      // A pool whose connection died inside a transaction never finishes closing (Kysely does not
      // release a connection whose rollback failed): do not wait for it forever.
      for (const o of opened) await Promise.race([o.close(true).catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000))]);
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The databases to test against. SQLite always; PostgreSQL when DATABASE_URL is set. Under
 * `CI=true` a missing DATABASE_URL is an error the caller turns into a failing test.
 */
export function databaseKinds(): { kinds: Array<'sqlite' | 'postgresql'>; missing: string | undefined } {
  if (process.env.DATABASE_URL) return { kinds: ['sqlite', 'postgresql'], missing: undefined };
  const missing = process.env.CI === 'true' ? 'CI=true but DATABASE_URL is not set: the PostgreSQL tests cannot run (see .ci/run).' : undefined;
  if (missing === undefined) console.log('# DATABASE_URL is not set: the PostgreSQL variants of these tests are not run.');
  return { kinds: ['sqlite'], missing };
}

/**
 * A persisted transition's result, checked to be a promise. (Transition methods keep their
 * declared return type, `void` here; persisted, they return a promise. Declaring a method
 * `async` makes its type say so.)
 */
export function persisted(result: unknown): Promise<unknown> {
  if (!(result instanceof Promise)) throw new TypeError(`a persisted transition returned ${String(result)}, not a promise`);
  return result;
}

/** Creates a ticket in its own entity manager and returns its id. */
export async function seedTicket(db: Database, data: Partial<Ticket> = {}): Promise<number> {
  const em = db.fork();
  const ticket = em.create(Ticket, { title: 'Printer on fire', stage: 'open', ...data } as never);
  await em.flush();
  return ticket.id;
}

/** Loads a ticket in a fresh entity manager (what the database has). */
export async function loadTicket(db: Database, id: number): Promise<Ticket> {
  return db.fork().findOneOrFail(Ticket, id);
}

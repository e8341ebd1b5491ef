/**
 * Shared by the MikroORM tests and the race workers: entities, persisted flows, and the databases
 * to run against (a SQLite file always; PostgreSQL when DATABASE_URL is set and MariaDB when
 * MARIADB_URL is set, both required under CI).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM, defineEntity, p, type InferEntity } from '@mikro-orm/sql';
import type { EntityManager, MikroORM as Orm } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { MariaDbDriver } from '@mikro-orm/mariadb';
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

/** The databases the MikroORM tests run on. */
export type DatabaseKind = 'sqlite' | 'postgresql' | 'mariadb';

/** What a worker process needs to open the same database. */
export type DatabaseSpec =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'postgresql'; readonly url: string; readonly schema: string }
  /** `url` names the server (its database part is ignored); `dbName` is this test file's own database. */
  | { readonly kind: 'mariadb'; readonly url: string; readonly dbName: string };

/** Pool and connection settings a test may override (a small pool, the proxy's port...). */
export interface ConnectOptions {
  readonly debug?: boolean;
  /** The entities to register. Default: this file's `entities`. */
  readonly entities?: readonly unknown[];
  /** The server to create the database on, instead of DATABASE_URL / MARIADB_URL (a throwaway server, a proxy). */
  readonly serverUrl?: string;
  /** The pool's size (PostgreSQL, MariaDB). Default 8. */
  readonly poolMax?: number;
  /** SQLite's busy timeout in ms (how long a statement waits for another process's lock). Default 5000. */
  readonly sqliteTimeout?: number;
  /** Extra options for `MikroORM.init` (driverOptions, ...). */
  readonly extra?: Record<string, unknown>;
}

export interface Database {
  readonly name: DatabaseKind;
  readonly spec: DatabaseSpec;
  readonly orm: Orm;
  /** A fresh entity manager. */
  fork(): EntityManager;
  /** Opens another ORM (another connection or pool) on the same database. */
  reopen(): Promise<Orm>;
  /** Closes the ORM and drops the database (file or schema). */
  dispose(): Promise<void>;
}

export async function connect(spec: DatabaseSpec, options: ConnectOptions | boolean = {}): Promise<Orm> {
  const { debug = false, poolMax = 8, extra = {}, entities: list = entities, sqliteTimeout } = typeof options === 'boolean' ? { debug: options } : options;
  const common = { entities: list as never[], debug, ...extra };
  if (spec.kind === 'sqlite') return MikroORM.init({ ...sqliteOptions(spec.file, sqliteTimeout === undefined ? {} : { timeout: sqliteTimeout }), ...common });
  if (spec.kind === 'mariadb') return MikroORM.init({ driver: MariaDbDriver, clientUrl: spec.url, dbName: spec.dbName, pool: { min: 0, max: poolMax }, ...common });
  return MikroORM.init({ driver: PostgreSqlDriver, clientUrl: spec.url, schema: spec.schema, pool: { min: 0, max: poolMax }, ...common });
}

/** A name no other test file or helper uses at the same time (schemas, databases). */
export function uniqueName(prefix = 'transitional'): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
}

/** Runs `sql` statements one by one on the MariaDB server of `url`, outside any test database. */
export async function mariadbAdmin(url: string, ...sql: string[]): Promise<void> {
  const admin = await MikroORM.init({ driver: MariaDbDriver, clientUrl: url, entities: [], discovery: { warnWhenNoEntities: false }, pool: { min: 0, max: 1 } });
  try {
    for (const statement of sql) await admin.em.getConnection().execute(statement);
  } finally {
    await admin.close(true);
  }
}

/**
 * Drops a test database on MariaDB. Connections a fault left open in it (a transaction whose
 * client went away) are killed first: their metadata locks would make `drop database` wait.
 */
export async function dropMariadbDatabase(url: string, dbName: string): Promise<void> {
  const admin = await MikroORM.init({ driver: MariaDbDriver, clientUrl: url, entities: [], discovery: { warnWhenNoEntities: false }, pool: { min: 0, max: 1 } });
  try {
    const connection = admin.em.getConnection();
    const ids = await connection.execute<Array<{ id: number }>>('select id from information_schema.processlist where db = ? and id <> connection_id()', [dbName]);
    for (const { id } of ids) await connection.execute(`kill ${Number(id)}`).catch(() => {});
    await connection.execute(`drop database if exists \`${dbName}\``);
  } finally {
    await admin.close(true);
  }
}

let counter = 0;

/** Creates a fresh database of `kind` with the schema of `entities`. */
export async function createDatabase(kind: DatabaseKind, options: ConnectOptions = {}): Promise<Database> {
  let spec: DatabaseSpec;
  let dir: string | undefined;
  if (kind === 'sqlite') {
    dir = mkdtempSync(join(tmpdir(), 'transitional-'));
    spec = { kind, file: join(dir, 'test.sqlite') };
  } else if (kind === 'mariadb') {
    const url = options.serverUrl ?? process.env.MARIADB_URL;
    if (!url) throw new Error('MARIADB_URL is not set');
    spec = { kind, url, dbName: uniqueName() };
    await mariadbAdmin(url, `create database \`${spec.dbName}\``);
  } else {
    const url = options.serverUrl ?? process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is not set');
    spec = { kind, url, schema: uniqueName() };
  }
  return openDatabase(spec, options, dir);
}

/** A `Database` over an existing empty database `spec`: creates the schema of `entities`; `dispose` drops it. */
export async function openDatabase(spec: DatabaseSpec, options: ConnectOptions = {}, dir?: string): Promise<Database> {
  const kind = spec.kind;
  const orm = await connect(spec, options);
  await orm.schema.create();
  const opened: Orm[] = [orm];
  return {
    name: kind,
    spec,
    orm,
    fork: () => orm.em.fork(),
    async reopen() {
      const other = await connect(spec, options);
      opened.push(other);
      return other;
    },
    async dispose() {
      // A pool whose connection died inside a transaction never finishes closing (Kysely does not
      // release a connection whose rollback failed): do not wait for it forever.
      for (const o of opened) await Promise.race([o.close(true).catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000))]);
      if (spec.kind === 'postgresql') {
        const admin = await connect(spec, { poolMax: 1 });
        try {
          // A transaction a fault left open on the server would make the drop wait: not forever.
          await admin.em.getConnection().execute(`set lock_timeout = '10s'`);
          await admin.em.getConnection().execute(`drop schema if exists "${spec.schema}" cascade`);
          // pg-boss's schema for this one's timers and durable hooks, if a test made it.
          await admin.em.getConnection().execute(`drop schema if exists "${spec.schema}_jobs" cascade`);
        } finally {
          await admin.close(true);
        }
      } else if (spec.kind === 'mariadb') {
        await dropMariadbDatabase(spec.url, spec.dbName);
      }
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The databases to test against. SQLite always; PostgreSQL when DATABASE_URL is set; MariaDB when
 * MARIADB_URL is set. Under `CI=true` a missing one is an error the caller turns into a failing
 * test (`missing` says which).
 */
export function databaseKinds(): { kinds: DatabaseKind[]; missing: string | undefined } {
  const kinds: DatabaseKind[] = ['sqlite'];
  const absent: string[] = [];
  if (process.env.DATABASE_URL) kinds.push('postgresql');
  else absent.push('DATABASE_URL (PostgreSQL)');
  if (process.env.MARIADB_URL) kinds.push('mariadb');
  else absent.push('MARIADB_URL (MariaDB)');
  if (absent.length === 0) return { kinds, missing: undefined };
  if (process.env.CI === 'true') return { kinds, missing: `CI=true but ${absent.join(' and ')} ${absent.length === 1 ? 'is' : 'are'} not set: those tests cannot run (see .ci/run).` };
  console.log(`# ${absent.join(' and ')} not set: those variants of these tests are not run.`);
  return { kinds, missing: undefined };
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

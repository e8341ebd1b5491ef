/**
 * The entities and the persisted flow of the fault suite (README, Guarantees). `LampFlow` toggles a
 * lamp between `off` and `on`, bumping a counter in every body (a lost update or a half-commit
 * shows as a counter that disagrees with the history), and calls `flow.during(phase)` at every
 * step of a call (before hook, body, onSuccess hook, onError hook, after hook) so a test can cut
 * the connection, kill the server or throw exactly there.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/sql';
import type { EntityManager } from '@mikro-orm/core';
import { State } from 'transitional';
import { TransitionLog, history, persistTransitions } from 'transitional/mikro-orm';
import { createDatabase, databaseKinds, type ConnectOptions, type Database, type DatabaseKind } from '../mikro-orm/fixtures.ts';

const lampProperties = {
  id: p.integer().primary(),
  position: p.string(),
  /** Bumped by every body: equals the number of history rows when nothing was lost or half-written. */
  counter: p.integer().default(0),
  note: p.string().nullable(),
  code: p.string().nullable().unique(),
};

export const Lamp = defineEntity({ name: 'Lamp', properties: lampProperties });
export type Lamp = InferEntity<typeof Lamp>;

/** The same lamp with a MikroORM version property (`version: true`). */
export const VersionedLamp = defineEntity({ name: 'VersionedLamp', properties: { ...lampProperties, version: p.integer().version() } });
export type VersionedLamp = InferEntity<typeof VersionedLamp>;

/** Another entity a body may change. */
export const Bulb = defineEntity({
  name: 'Bulb',
  properties: {
    id: p.integer().primary(),
    lampId: p.integer(),
    watts: p.integer(),
  },
});
export type Bulb = InferEntity<typeof Bulb>;

export const faultEntities = [Lamp, VersionedLamp, Bulb, TransitionLog];

export const position = new State(['off', 'on', 'broken'] as const, { name: 'position', default: 'off' });
export type Position = 'off' | 'on' | 'broken';

/** Where in a call `during` is called. */
export type Phase = 'before' | 'body' | 'onSuccess' | 'onError' | 'after';

export class LampFlow {
  /** Called at every phase of every call of this flow; may throw, cut connections, call transitions... */
  during: (phase: Phase, flow: LampFlow) => unknown = () => {};
  /** When it returns true for a value, the setter throws instead of writing it. */
  setterFails: (value: Position) => boolean = () => false;
  /** The body runs a query of its own after `during('body')`. */
  bodyQuery = false;

  constructor(
    readonly lamp: Lamp | VersionedLamp,
    readonly em: EntityManager,
  ) {}

  @position.getter() getPosition() {
    return this.lamp.position as Position;
  }
  @position.setter() setPosition(value: Position) {
    if (this.setterFails(value)) throw new Error(`the setter refused ${value}`);
    this.lamp.position = value;
  }

  @position.before() async beforeHook() {
    await this.during('before', this);
  }
  @position.onSuccess() async successHook() {
    await this.during('onSuccess', this);
  }
  @position.onError() async errorHook() {
    await this.during('onError', this);
  }
  @position.after() async afterHook() {
    await this.during('after', this);
  }

  @position.transition({ source: 'off', target: 'on' })
  @position.transition({ source: 'on', target: 'off' })
  async toggle() {
    this.lamp.counter++;
    await this.during('body', this);
    if (this.bodyQuery) await this.em.count(Bulb, {});
  }

  /** Fails into `broken`: only that move and its history row are committed. */
  @position.transition({ source: 'off', target: 'on', onError: 'broken' })
  async switchOnRisky() {
    this.lamp.counter++;
    this.lamp.note = 'risky';
    await this.during('body', this);
    throw new Error('the bulb blew');
  }

  /** A transition an `onError` hook may call. */
  @position.transition({ source: ['off', 'on'], target: 'broken' })
  async markBroken() {
    this.lamp.counter++;
    this.lamp.note = 'marked broken';
  }
}

persistTransitions(position, LampFlow, {
  em: (flow) => flow.em,
  entity: (flow) => flow.lamp,
  field: 'position',
});

/** Creates a fresh database of `kind` with the fault suite's entities. */
export function createFaultDatabase(kind: DatabaseKind, options: ConnectOptions = {}): Promise<Database> {
  return createDatabase(kind, { ...options, entities: faultEntities });
}

/** The database kinds to run on (SQLite always; PostgreSQL and MariaDB when configured, required under CI). */
export { databaseKinds };

/** Anything that gives entity managers: a `Database`, or `{ fork: () => orm.em.fork() }`. */
export interface Forks {
  fork(): EntityManager;
}

/** Creates lamps in their own entity manager; returns their ids. */
export async function seedLamps(db: Forks, count: number, entity: typeof Lamp | typeof VersionedLamp = Lamp, data: Partial<Lamp> = {}): Promise<number[]> {
  const em = db.fork();
  const lamps = Array.from({ length: count }, () => em.create(entity as typeof Lamp, { position: 'off', ...data } as never));
  await em.flush();
  return lamps.map((l) => l.id);
}

/** A lamp's row and history as the database has them (a fresh entity manager). */
export async function stored(db: Forks, id: number, entity: typeof Lamp | typeof VersionedLamp = Lamp): Promise<{ position: string; counter: number; note: string | null; history: Array<[string, string, string]> }> {
  const em = db.fork();
  const lamp = await em.findOneOrFail(entity as typeof Lamp, id);
  const rows = await history(em, lamp);
  return { position: lamp.position, counter: lamp.counter, note: lamp.note ?? null, history: rows.map((r) => [r.transition, r.source, r.target]) };
}

/**
 * Checks what a lamp must look like whatever happened to the processes writing it: its state is
 * the target of its last history row (`off` without history), the history is an unbroken chain
 * from `off` (each row starts where the previous one ended), and the counter the bodies bump
 * equals the number of history rows (no body's write lost, none without its history row).
 * Returns the problems found (empty when consistent).
 */
export function chainProblems(id: number, row: { position: string; counter: number; history: Array<[string, string, string]> }): string[] {
  const problems: string[] = [];
  let at = 'off';
  row.history.forEach(([transition, source, target], i) => {
    if (source !== at) problems.push(`lamp ${id}: history row ${i} (${transition}) starts at ${source} but the previous row ended at ${at}`);
    at = target;
  });
  if (row.position !== at) problems.push(`lamp ${id}: position ${row.position} but the history ends at ${at}`);
  if (row.counter !== row.history.length) problems.push(`lamp ${id}: counter ${row.counter} but ${row.history.length} history rows`);
  return problems;
}

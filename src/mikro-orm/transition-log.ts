/** The history of persisted transitions: the `TransitionLog` entity and `history()`. */

import { defineEntity, p, wrap, type EntityManager, type EntityName, type EntitySchemaWithMeta, type Opt } from '@mikro-orm/core';

/** One history row: what `history()` returns and what `TransitionLog` stores. */
export interface TransitionLog {
  /** Autoincrement: the order in which rows were written. */
  id: Opt<number>;
  /** The entity name of the flow's entity (`Ticket`). */
  entity: string;
  /** Its primary key, serialized (`'42'`; composite keys joined with `~~~`). */
  entityId: string;
  /** The property that holds the state. */
  field: string;
  /** The method name of the transition that made the change. */
  transition: string;
  source: string;
  target: string;
  /** Who did it, as `actor(flow)` returned it; `null` when not given. */
  actor: string | null | undefined;
  createdAt: Date;
}

/**
 * One row per state change a persisted transition made: a chain of three transitions writes three
 * rows, in the same database transaction as the change. State values are stored as text (a
 * numeric state `0` reads back as `'0'`).
 *
 * Register it with your entities: `MikroORM.init({ entities: [Ticket, TransitionLog], ... })`.
 */
// Declared, not inferred (the inferred type fills ~100 lines of the .d.ts); the annotation still
// checks the interface against these properties.
export const TransitionLog: EntitySchemaWithMeta<'TransitionLog', 'transition_log', TransitionLog> = defineEntity({
  name: 'TransitionLog',
  tableName: 'transition_log',
  properties: {
    id: p.integer().primary().autoincrement(),
    entity: p.string().length(255),
    entityId: p.string().length(255),
    field: p.string().length(255),
    transition: p.string().length(255),
    source: p.string().length(255),
    target: p.string().length(255),
    actor: p.string().length(255).nullable(),
    createdAt: p.datetime(),
  },
  indexes: [{ properties: ['entity', 'entityId'] }],
});

/** What a persisted transition records for one state change. */
export interface TransitionRecord {
  readonly entity: string;
  readonly entityId: string;
  readonly field: string;
  readonly transition: string;
  readonly source: string;
  readonly target: string;
  readonly actor: string | null;
  readonly createdAt: Date;
}

/**
 * The history of `entity`: its `TransitionLog` rows, oldest first. The rows are read without
 * entering the entity manager's identity map (they are records, not something to edit).
 * Pass `{ log }` when the rows live in your own log entity (with the `TransitionLog` properties).
 *
 * @example
 * for (const row of await history(em, ticket)) console.log(row.transition, row.source, '→', row.target);
 */
export async function history<L extends object = TransitionLog>(em: EntityManager, entity: object, options: { log?: EntityName<L> } = {}): Promise<L[]> {
  const wrapped = wrap(entity, true);
  if (wrapped?.__meta === undefined) throw new TypeError(`history(em, entity): ${String(entity)} is not a MikroORM entity.`);
  const log = (options.log ?? TransitionLog) as EntityName<L>;
  const where = { entity: wrapped.__meta.className, entityId: wrapped.getSerializedPrimaryKey() };
  return em.find(log, where as never, { orderBy: { id: 'asc' } as never, disableIdentityMap: true }) as Promise<L[]>;
}

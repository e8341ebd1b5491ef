/**
 * What the store needs to know about the flow's entity: that it is managed by the flow's entity
 * manager, its identity, and the property holding the state.
 */

import { ReferenceKind, wrap, type EntityManager, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import { show, type StateValue } from '../core/errors.ts';
import { TransitionNotPersisted } from './errors.ts';

/** The flow's entity, checked and identified. */
export interface Target {
  readonly entity: Record<string, unknown>;
  readonly meta: EntityMetadata<any>;
  /** The entity name, as history rows and errors show it. */
  readonly name: string;
  /** The primary key value (an array for a composite key). */
  readonly id: unknown;
  /** The primary key serialized, as history rows store it. */
  readonly key: string;
  /** `{ pk: value }`: the WHERE of the compare-and-set. */
  readonly where: Record<string, unknown>;
  /** The entity's schema, when it has its own. */
  readonly schema: string | undefined;
}

interface Wrapped {
  __meta?: EntityMetadata<any>;
  __originalEntityData?: Record<string, unknown>;
  getPrimaryKey(): unknown;
  getSerializedPrimaryKey(): string;
  getSchema(): string | undefined;
}

function wrapped(entity: object): Wrapped {
  return wrap(entity, true) as unknown as Wrapped;
}

/**
 * Checks that `entity` is a managed entity of `em` that exists in the database as far as `em`
 * knows, and identifies it. Throws `TransitionNotPersisted` (`'unmanaged'` or `'removed'`) otherwise.
 */
export function target(em: EntityManager, entity: unknown, flowName: string, transition: string): Target {
  if (entity === null || typeof entity !== 'object') {
    throw new TransitionNotPersisted(flowName, undefined, transition, 'unmanaged', `${flowName}.${transition}(): the entity option returned ${String(entity)}, not a MikroORM entity.`);
  }
  const w = wrapped(entity);
  const meta = w?.__meta;
  if (meta === undefined) {
    throw new TransitionNotPersisted(flowName, undefined, transition, 'unmanaged', `${flowName}.${transition}(): the entity option returned an instance of ${entity.constructor?.name ?? 'no class'}, not a MikroORM entity (is its class in MikroORM.init({ entities })?).`);
  }
  const name = meta.className;
  const id = w.getPrimaryKey();
  const uow = em.getUnitOfWork();
  if (id === null || id === undefined || w.__originalEntityData === undefined || uow.getById(meta.class, id as never) !== entity) {
    const why = id === null || id === undefined || w.__originalEntityData === undefined
      ? 'it was never flushed (persist and flush it first, or load it)'
      : 'it is not in the identity map of the flow\'s entity manager (loaded by another entity manager, detached by em.clear(), or deleted)';
    throw new TransitionNotPersisted(name, id ?? undefined, transition, 'unmanaged', `${flowName}.${transition}(): ${name} ${id === undefined || id === null ? '(new)' : show(id)} is not managed by the flow's entity manager: ${why}. Nothing was written.`);
  }
  if (uow.getRemoveStack().has(entity)) {
    throw new TransitionNotPersisted(name, id, transition, 'removed', `${flowName}.${transition}(): ${name} ${show(id)} is scheduled for removal (em.remove) in the flow's entity manager. Nothing was written.`);
  }
  const where: Record<string, unknown> = {};
  for (const pk of meta.primaryKeys) where[pk] = (entity as Record<string, unknown>)[pk];
  return { entity: entity as Record<string, unknown>, meta, name, id, key: w.getSerializedPrimaryKey(), where, schema: w.getSchema() };
}

/** The value `em` last read or wrote for `field` (`null` for a NULL column). */
export function loaded(t: Target, field: string): unknown {
  return rowSnapshot(t)?.[field] ?? null;
}

/** MikroORM's snapshot of the entity's row (what it last read or wrote), if it has one. */
export function rowSnapshot(t: Target): Record<string, unknown> | undefined {
  return wrapped(t.entity).__originalEntityData;
}

/** The scalar properties that can hold a state. */
function scalarProps(meta: EntityMetadata<any>): EntityProperty[] {
  return meta.props.filter((prop) => prop.kind === ReferenceKind.SCALAR && prop.primary !== true && prop.persist !== false && prop.formula === undefined);
}

/**
 * Which property holds the state, found after a call that changed it: the one scalar property
 * that went from the first change's source to the last change's target; failing that, the one
 * that went from NULL to that target when the source is the State's default (a NULL column).
 * `undefined` when not exactly one did.
 */
export function fieldAfter(t: Target, before: ReadonlyMap<string, unknown>, source: StateValue, target: StateValue, fallback: StateValue | undefined): string | undefined {
  const changed = scalarProps(t.meta).filter((prop) => t.entity[prop.name] === target);
  const exact = changed.filter((prop) => before.get(prop.name) === source);
  if (exact.length !== 0 || source !== fallback) return exact.length === 1 ? exact[0]!.name : undefined;
  const fromNull = changed.filter((prop) => (before.get(prop.name) ?? null) === null);
  return fromNull.length === 1 ? fromNull[0]!.name : undefined;
}

/**
 * What a unit of work can change in an entity manager's memory, and putting it back.
 *
 * A persisted call that fails must leave every entity it touched as it was before the call, and
 * none of its changes may reach a later flush. MikroORM cannot tell a change the body made from
 * one the user made earlier and has not flushed yet, so `snapshotMemory` copies, when the unit
 * starts, what a body can change: every managed entity's own properties, its initialized
 * collections and MikroORM's snapshot of its row (`__originalEntityData`, which a flush inside
 * the unit replaces), plus the entity manager's persist and remove stacks. `restoreMemory` puts
 * all of it back, and forgets the entities the unit created (its inserts were rolled back).
 *
 * The copy costs about as much as one pass of a flush over the identity map (what `em.flush()`
 * does anyway at the end of the unit): nothing for a fresh fork holding one entity.
 */

import { ReferenceKind, helper, type EntityManager, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';

interface Wrapped {
  readonly __meta: EntityMetadata<any>;
  __originalEntityData?: Record<string, unknown>;
}

/** The relations kept as collections rather than properties. */
function isCollection(prop: EntityProperty): boolean {
  return prop.kind === ReferenceKind.ONE_TO_MANY || prop.kind === ReferenceKind.MANY_TO_MANY;
}

/** The collection-like API we use (MikroORM's `Collection`, partly internal). */
interface CollectionLike {
  isInitialized(): boolean;
  isDirty(): boolean;
  setDirty(dirty?: boolean): void;
  getItems(check?: boolean): object[];
  getSnapshot(): object[] | undefined;
  hydrate(items: object[], forcePropagate?: boolean): void;
  addWithoutPropagation(entity: object): void;
  removeWithoutPropagation(entity: object): void;
}

/** One entity as it was when the unit started. */
interface EntityCopy {
  readonly entity: Record<string, unknown>;
  readonly meta: EntityMetadata<any>;
  /** Own property values, by property name; a name missing here was absent (not loaded). */
  readonly values: Map<string, unknown>;
  readonly original: Record<string, unknown> | undefined;
  /** Initialized collections: their items, MikroORM's snapshot of them, and whether they were dirty. */
  readonly collections: Array<{ name: string; items: object[]; snapshot: object[] | undefined; dirty: boolean }> | undefined;
}

/** The entity manager's memory when a unit started. */
export interface MemorySnapshot {
  readonly em: EntityManager;
  readonly entities: EntityCopy[];
  readonly known: Set<object>;
  readonly persisting: object[];
  readonly removing: object[];
}

function copyOf(entity: Record<string, unknown>): EntityCopy {
  const wrapped = helper(entity) as unknown as Wrapped;
  const meta = wrapped.__meta;
  const values = new Map<string, unknown>();
  let collections: EntityCopy['collections'];
  for (const prop of meta.props) {
    if (!Object.hasOwn(entity, prop.name)) continue;
    const value = entity[prop.name];
    if (isCollection(prop)) {
      const c = value as CollectionLike | undefined;
      if (c !== undefined && c !== null && typeof c.isInitialized === 'function' && c.isInitialized()) {
        (collections ??= []).push({ name: prop.name, items: c.getItems(false), snapshot: c.getSnapshot(), dirty: c.isDirty() });
      }
      continue;
    }
    values.set(prop.name, value);
  }
  const original = wrapped.__originalEntityData;
  return { entity, meta, values, original: original === undefined ? undefined : { ...original }, collections };
}

/** Copies what a unit of work on `em` may change. */
export function snapshotMemory(em: EntityManager): MemorySnapshot {
  const uow = em.getUnitOfWork();
  const known = new Set<object>();
  const entities: EntityCopy[] = [];
  for (const entity of uow.getIdentityMap()) {
    if (known.has(entity)) continue; // an entity stored under an alternate key too
    known.add(entity);
    entities.push(copyOf(entity as Record<string, unknown>));
  }
  const persisting = [...uow.getPersistStack()];
  for (const entity of persisting) {
    if (known.has(entity)) continue;
    known.add(entity);
    entities.push(copyOf(entity as Record<string, unknown>));
  }
  return { em, entities, known, persisting, removing: [...uow.getRemoveStack()] };
}

function restoreCollection(c: CollectionLike, saved: NonNullable<EntityCopy['collections']>[number]): void {
  const now = c.getItems(false);
  if (now.length === saved.items.length && now.every((item, i) => item === saved.items[i]) && c.getSnapshot() === saved.snapshot) {
    c.setDirty(saved.dirty);
    return;
  }
  // `hydrate` sets the items and takes them as MikroORM's snapshot: first the snapshot as it was,
  // then the items as they were on top of it, without touching the other side of the relation
  // (its entities are restored from their own copies).
  c.hydrate(saved.snapshot ?? saved.items, false);
  const items = new Set(saved.items);
  for (const item of c.getItems(false)) if (!items.has(item)) c.removeWithoutPropagation(item);
  const present = new Set(c.getItems(false));
  for (const item of saved.items) if (!present.has(item)) c.addWithoutPropagation(item);
  c.setDirty(saved.dirty);
}

/**
 * Puts the entity manager's memory back as `snap` saw it: every entity's properties (all but
 * the ones in `keep`, per entity: the state the runtime decided) and row snapshot, its
 * collections, the persist and remove stacks; entities that were not managed then are forgotten.
 */
export function restoreMemory(snap: MemorySnapshot, keep?: { entity: object; fields: readonly string[] }): void {
  const uow = snap.em.getUnitOfWork();
  // Forget what the unit created or registered: its inserts were rolled back.
  for (const entity of [...uow.getIdentityMap()]) if (!snap.known.has(entity)) uow.unsetIdentity(entity);
  const persistStack = uow.getPersistStack();
  for (const entity of [...persistStack]) if (!snap.known.has(entity)) uow.unsetIdentity(entity);
  persistStack.clear();
  for (const entity of snap.persisting) persistStack.add(entity);
  const removeStack = uow.getRemoveStack();
  removeStack.clear();
  for (const entity of snap.removing) removeStack.add(entity);

  for (const copy of snap.entities) {
    const kept = keep !== undefined && keep.entity === copy.entity ? keep.fields : undefined;
    for (const c of copy.collections ?? []) restoreCollection(copy.entity[c.name] as CollectionLike, c);
    for (const prop of copy.meta.props) {
      if (isCollection(prop) || kept?.includes(prop.name)) continue;
      const name = prop.name;
      if (copy.values.has(name)) {
        const value = copy.values.get(name);
        if (copy.entity[name] !== value) copy.entity[name] = value;
      } else if (Object.hasOwn(copy.entity, name)) {
        delete copy.entity[name];
      }
    }
    // The row snapshot goes back whole, kept fields included: the database is back where it was.
    const wrapped = helper(copy.entity) as unknown as Wrapped;
    if (copy.original === undefined) delete wrapped.__originalEntityData;
    else wrapped.__originalEntityData = { ...copy.original };
  }
}

/** The property values `entity` had when `snap` was taken (empty for an entity it did not see). */
export function valuesBefore(snap: MemorySnapshot, entity: object): ReadonlyMap<string, unknown> {
  for (const copy of snap.entities) if (copy.entity === entity) return copy.values;
  return new Map();
}

/** MikroORM's row snapshot of `entity` when `snap` was taken. */
export function originalBefore(snap: MemorySnapshot, entity: object): Record<string, unknown> | undefined {
  for (const copy of snap.entities) if (copy.entity === entity) return copy.original;
  return undefined;
}

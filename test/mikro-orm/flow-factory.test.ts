/**
 * The `flow` factory of `persistTransitions` and finding a class's store (`persistenceOf`,
 * `persistedWith`): what workers and the admin view use to wrap a loaded entity.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntityManager } from '@mikro-orm/core';
import { persistenceOf, State } from 'transitional';
import { persistedWith, persistTransitions, MikroOrmTransitionStore } from 'transitional/mikro-orm';

const door = new State(['shut', 'open'] as const, { name: 'door', default: 'shut' });
interface Room { door?: 'shut' | 'open' }

class Door {
  constructor(readonly room: Room, readonly em: EntityManager) {}
  @door.transition({ source: 'shut', target: 'open' }) async open() {}
}
class FrontDoor extends Door {}
class Loose {
  constructor(readonly room: Room) {}
  @door.transition({ source: 'shut', target: 'open' }) async open() {}
}
class Factoryless {
  constructor(readonly room: Room, readonly em: EntityManager) {}
  @door.transition({ source: 'shut', target: 'open' }) async open() {}
}

const store = persistTransitions(door, Door, { em: (f) => f.em, entity: (f) => f.room, field: 'door', flow: (room: Room, em) => new Door(room, em) });
persistTransitions(door, Factoryless, { em: (f) => f.em, entity: (f) => f.room });

test('a persisted class and its subclasses find their store; an in-memory class finds none', () => {
  assert.equal(persistenceOf(door, Door), store);
  assert.equal(persistedWith(door, FrontDoor), store);
  assert.ok(store instanceof MikroOrmTransitionStore);
  assert.equal(persistenceOf(door, Loose), undefined);
  assert.equal(persistedWith(door, Loose), undefined);
  assert.equal(store.field, 'door');
  assert.equal(store.state, door);
});

test('wrap() builds a flow with the factory, in the given entity manager', () => {
  const em = {} as EntityManager;
  const room: Room = { door: 'shut' };
  const flow = store.wrap(room, em);
  assert.ok(flow instanceof Door);
  assert.equal(flow.room, room);
  assert.equal(flow.em, em);
});

test('without a factory, wrap() is a TypeError that says how to declare one', () => {
  assert.throws(() => persistedWith(door, Factoryless)!.wrap({}, {} as EntityManager), (e) => e instanceof TypeError && /flow: \(entity, em\) => new Factoryless/.test(e.message));
});

test('a flow option that is not a function is refused when persisting', () => {
  class Bad {
    constructor(readonly room: Room) {}
    @door.transition({ source: 'shut', target: 'open' }) async open() {}
  }
  assert.throws(() => persistTransitions(door, Bad, { em: () => ({}) as EntityManager, entity: (f) => f.room, flow: 'nope' as never }), /options\.flow must be a function/);
});

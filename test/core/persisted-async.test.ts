/**
 * Persisted transitions must be declared `async` (README, Errors): a persisted call always returns a
 * promise, so `persistWith` (and `persistTransitions`, built on it) refuses a class whose transition
 * methods are not, naming every one; a subclass defined later fails when it is defined, and a
 * subclass defined before its parent was persisted fails at its first call. A store's unit of work
 * carries the user the call acts for.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State, TransitionNotAllowed, actingAs, persistWith, type TransitionStore, type UnitOfWork } from 'transitional';
import { persistTransitions } from 'transitional/mikro-orm';

const phase = new State(['draft', 'sent', 'paid'] as const, { default: 'draft', name: 'phase' });

/** A store that keeps nothing: it runs each call and remembers its unit. */
class MemoryStore implements TransitionStore {
  readonly units: UnitOfWork[] = [];
  async run(unit: UnitOfWork, call: () => Promise<unknown>): Promise<unknown> {
    this.units.push(unit);
    return call();
  }
}

function mixedClasses() {
  class Base {
    @phase.transition({ source: 'draft', target: 'sent' }) send() {}
    @phase.transition({ source: 'sent', target: 'paid' }) async pay() {}
  }
  class Order extends Base {
    @phase.transition({ source: 'paid', target: 'draft' }) reopen() {}
    @phase.transition({ source: 'sent', target: 'draft' }) async recall() {}
    notATransition() {}
  }
  return { Base, Order };
}

describe('persistWith refuses transition methods not declared async', () => {
  test('a TypeError names every one, inherited ones included, and nothing is persisted', () => {
    const { Order } = mixedClasses();
    assert.throws(() => persistWith(phase, Order, new MemoryStore()), (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, /^Order cannot be persisted for State\(phase\): a persisted transition always returns a promise, but send\(\), reopen\(\) are not declared async\. Declare them async/);
      assert.doesNotMatch(e.message, /pay\(\)|recall\(\)|notATransition/);
      return true;
    });
    const order = new Order();
    assert.equal(order.send(), undefined, 'still an in-memory, synchronous flow');
    assert.equal(phase.get(order), 'sent');
  });

  test('persistTransitions (transitional/mikro-orm) refuses the same way', () => {
    const { Order } = mixedClasses();
    assert.throws(() => persistTransitions(phase, Order, { em: () => ({}) as never, entity: () => ({}) }), {
      name: 'TypeError',
      message: /Order cannot be persisted for State\(phase\).*send\(\), reopen\(\) are not declared async/,
    });
  });

  test('a class whose transitions are all async is accepted; every call goes through the store', async () => {
    class Order {
      @phase.transition({ source: 'draft', target: 'sent' }) async send() { return 'sent'; }
      @phase.transition({ source: 'sent', target: 'paid' }) async pay() {}
    }
    const store = new MemoryStore();
    persistWith(phase, Order, store);
    const order = new Order();
    assert.equal(await order.send(), 'sent');
    await assert.rejects(order.send(), TransitionNotAllowed);
    assert.deepEqual(store.units.map((u) => u.transition), ['send', 'send']);
  });
});

describe('a subclass of a persisted class', () => {
  test('defined afterwards with a transition not declared async: TypeError when it is defined, naming the method', () => {
    class Order {
      @phase.transition({ source: 'draft', target: 'sent' }) async send() {}
    }
    persistWith(phase, Order, new MemoryStore());
    assert.throws(
      () => {
        class Express extends Order {
          @phase.transition({ source: 'sent', target: 'paid' }) payNow() {}
        }
        return Express;
      },
      { name: 'TypeError', message: /payNow\(\).*persisted.*declare the method async: async payNow\(\.\.\.\)/ },
    );
    assert.throws(
      () => {
        class Inherited extends Order {
          @phase.inherit() override send() {
            return Promise.resolve();
          }
        }
        return Inherited;
      },
      { name: 'TypeError', message: /send\(\).*declare the method async/ },
    );
    class Fine extends Order {
      @phase.transition({ source: 'sent', target: 'paid' }) async payNow() {}
    }
    assert.ok(Fine);
  });

  test('defined before its parent was persisted: its first call throws a TypeError, and nothing changes', async () => {
    class Order {
      @phase.transition({ source: 'draft', target: 'sent' }) async send() {}
    }
    class Express extends Order {
      @phase.transition({ source: 'sent', target: 'paid' }) payNow() {}
    }
    const store = new MemoryStore();
    persistWith(phase, Order, store);
    const order = new Express();
    await order.send();
    for (let i = 0; i < 2; i++) {
      assert.throws(() => order.payNow(), {
        name: 'TypeError',
        message: /^Express\.payNow\(\) is a persisted transition, so it always returns a promise, but it is not declared async/,
      });
      assert.equal(phase.get(order), 'sent');
    }
    assert.deepEqual(store.units.map((u) => u.transition), ['send']);
  });
});

describe('a unit of work knows who acts', () => {
  test('unit.user is the actingAs user when the outermost call was made, undefined outside', async () => {
    class Order {
      @phase.transition({ source: 'draft', target: 'sent' }) async send() {
        await this.pay();
      }
      @phase.transition({ source: 'sent', target: 'paid' }) async pay() {}
    }
    const store = new MemoryStore();
    persistWith(phase, Order, store);
    await actingAs('ann', () => new Order().send());
    await new Order().send();
    await actingAs(undefined, () => new Order().send());
    assert.deepEqual(
      store.units.map((u) => [u.transition, u.user]),
      [['send', 'ann'], ['send', undefined], ['send', undefined]],
      'one unit per outermost call; the chained pay() is inside it',
    );
  });
});

/**
 * Async transitions (README, Async transitions): promises from the body or a hook, rollback on rejection, hooks
 * awaited in order, and calls on one flow instance that never interleave. Gateways are promises the
 * tests settle by hand, so every interleaving is deterministic.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State, TransitionNotAllowed, type HookEvent } from 'transitional';
import { deferred, flush, isPromise, settlement, within, type Deferred } from './support.ts';

const STAGES = ['cart', 'paying', 'paid', 'shipped', 'failed'] as const;
type Stage = (typeof STAGES)[number];

/** An order whose `pay` awaits a fake payment gateway (`gateway`, settled by the test). */
function orderFlow() {
  const stage = new State(STAGES, { default: 'cart', name: 'stage' });
  const log: string[] = [];
  class Order {
    stage: Stage | undefined;
    readonly writes: Stage[] = [];
    gateway: Deferred<string> = deferred<string>();
    shipping: Deferred<void> = deferred();

    @stage.getter() getStage() {
      return this.stage;
    }
    @stage.setter() setStage(value: Stage) {
      this.stage = value;
      this.writes.push(value);
    }

    @stage.transition({ source: 'cart', target: 'paying' })
    async pay() {
      log.push(`pay:start in ${stage.get(this)}`);
      const receipt = await this.gateway.promise;
      log.push(`pay:end in ${stage.get(this)}`);
      return receipt;
    }

    @stage.transition({ source: 'cart', target: 'paying', onError: 'failed' })
    async payOrFail() {
      return this.gateway.promise;
    }

    @stage.transition({ source: 'paying', target: 'paid' })
    confirm() {
      log.push('confirm');
      return 'confirmed';
    }

    @stage.transition({ source: 'paid', target: 'shipped' })
    async ship() {
      log.push('ship:start');
      await this.shipping.promise;
      log.push('ship:end');
    }

    /** Pays, then chains `confirm` from inside, after an `await`. */
    @stage.transition({ source: 'cart', target: 'paying' })
    async payAndConfirm() {
      await this.gateway.promise;
      const confirmed = this.confirm();
      log.push(`chained confirm returned ${isPromise(confirmed) ? 'a promise' : String(confirmed)} in ${stage.get(this)}`);
      return confirmed;
    }
  }
  return { stage, Order, log };
}

describe('an async body', () => {
  test('makes the call return a promise; the state changes before the body and is visible during it', async () => {
    const { stage, Order, log } = orderFlow();
    const order = new Order();
    const call = order.pay();
    assert.ok(isPromise(call));
    assert.equal(stage.get(order), 'paying');
    assert.deepEqual(log, ['pay:start in paying']);
    order.gateway.resolve('receipt-1');
    assert.equal(await call, 'receipt-1');
    assert.deepEqual(log, ['pay:start in paying', 'pay:end in paying']);
    assert.equal(stage.get(order), 'paying');
    assert.deepEqual(order.writes, ['paying']);
  });

  test('a rejection rolls back to the source; the call rejects with the same error', async () => {
    const { stage, Order } = orderFlow();
    const order = new Order();
    const declined = new Error('card declined');
    const call = order.pay();
    order.gateway.reject(declined);
    await assert.rejects(call, (e) => e === declined);
    assert.equal(stage.get(order), 'cart');
    assert.deepEqual(order.writes, ['paying', 'cart']);
  });

  test('a rejection moves to the onError value when the transition has one', async () => {
    const { stage, Order } = orderFlow();
    const order = new Order();
    const call = order.payOrFail();
    order.gateway.reject(new Error('gateway down'));
    await assert.rejects(call, /gateway down/);
    assert.equal(stage.get(order), 'failed');
    assert.deepEqual(order.writes, ['paying', 'failed']);
  });

  test('onError and after hooks run after the rollback of an async failure', async () => {
    const { stage, Order } = orderFlow();
    const log: string[] = [];
    stage.hook(Order, 'error', (e) => log.push(`error ${(e.error as Error).message} in ${stage.get(e.flow)}`));
    stage.hook(Order, 'after', (e) => log.push(`after in ${stage.get(e.flow)}`));
    const order = new Order();
    const call = order.pay();
    order.gateway.reject(new Error('declined'));
    await assert.rejects(call, /declined/);
    assert.deepEqual(log, ['error declined in cart', 'after in cart']);
  });

  test('an onError hook of an async failure may call a recovery transition: it runs at once, from the rolled-back state', async () => {
    const stage = new State(['idle', 'running', 'recovering'] as const, { default: 'idle' });
    class Manager {
      job = deferred();
      @stage.transition({ source: 'idle', target: 'running', onError: 'recovering' })
      async run() {
        await this.job.promise;
      }
      @stage.transition({ source: 'recovering', target: 'idle' }) recover() {}
      @stage.onError() onFailure() {
        this.recover();
      }
    }
    const m = new Manager();
    const call = m.run();
    m.job.reject(new Error('job failed'));
    await within(assert.rejects(call, /job failed/), 1000, 'run() with a recovering onError hook');
    assert.equal(stage.get(m), 'idle');
  });
});

describe('a body that is not declared async but returns a promise', () => {
  test('is treated as async: the call returns its promise, and a rejection rolls back', async () => {
    const stage = new State(STAGES, { default: 'cart' });
    class Order {
      gateway = deferred<string>();
      @stage.transition({ source: 'cart', target: 'paying' })
      pay() {
        return this.gateway.promise.then((r) => `paid: ${r}`);
      }
    }
    const ok = new Order();
    const call = ok.pay();
    assert.ok(isPromise(call));
    ok.gateway.resolve('r1');
    assert.equal(await call, 'paid: r1');
    assert.equal(stage.get(ok), 'paying');

    const bad = new Order();
    const failing = bad.pay();
    assert.equal(stage.get(bad), 'paying');
    bad.gateway.reject(new Error('declined'));
    await assert.rejects(failing, /declined/);
    assert.equal(stage.get(bad), 'cart');
  });

  test('an outside call made while its promise is pending waits its turn', async () => {
    const stage = new State(STAGES, { default: 'cart' });
    const log: string[] = [];
    class Order {
      gateway = deferred();
      @stage.transition({ source: 'cart', target: 'paying' })
      pay() {
        log.push('pay');
        return this.gateway.promise.then(() => log.push('pay settled'));
      }
      @stage.transition({ source: 'paying', target: 'paid' })
      confirm() {
        log.push('confirm');
      }
    }
    const order = new Order();
    const first = order.pay();
    const second = order.confirm();
    assert.ok(isPromise(second), 'a sync transition called while another is in flight returns a promise');
    await flush();
    assert.deepEqual(log, ['pay']);
    order.gateway.resolve();
    await first;
    await second;
    assert.deepEqual(log, ['pay', 'pay settled', 'confirm']);
    assert.equal(stage.get(order), 'paid');
  });

  test('a chained call from inside its promise chain runs at once (no deadlock)', async () => {
    const stage = new State(STAGES, { default: 'cart' });
    class Order {
      gateway = deferred();
      @stage.transition({ source: 'cart', target: 'paying' })
      pay() {
        return this.gateway.promise.then(() => this.confirm());
      }
      @stage.transition({ source: 'paying', target: 'paid' })
      confirm() {
        return 'confirmed';
      }
    }
    const order = new Order();
    const call = order.pay() as Promise<unknown>;
    order.gateway.resolve();
    assert.equal(await within(call, 500, 'pay() chaining confirm() from its promise chain'), 'confirmed');
    assert.equal(stage.get(order), 'paid');
  });

  test('a chained call from inside its promise chain runs at once on a flow class with hooks too', async () => {
    const stage = new State(STAGES, { default: 'cart' });
    class Order {
      gateway = deferred();
      @stage.transition({ source: 'cart', target: 'paying' })
      pay() {
        return this.gateway.promise.then(() => this.confirm());
      }
      @stage.transition({ source: 'paying', target: 'paid' })
      confirm() {
        return 'confirmed';
      }
      @stage.after() done() {}
    }
    for (let i = 1; i <= 2; i++) {
      const order = new Order();
      const call = order.pay() as Promise<unknown>;
      order.gateway.resolve();
      assert.equal(await within(call, 500, `call #${i}: pay() chaining confirm() from its promise chain`), 'confirmed');
      assert.equal(stage.get(order), 'paid');
    }
  });
});

describe('a body not declared async that ran synchronously before, then returns a promise', () => {
  /**
   * `pay` returns synchronously until it is given a gateway: its first calls teach the runtime that
   * it is synchronous (so it runs outside the async frame, on the fast path without hooks), then a
   * call returns a promise whose code chains `confirm()` after an `await`.
   */
  function orderClass(hooked: boolean) {
    const stage = new State(STAGES, { default: 'cart' });
    class Order {
      gateway: Deferred | undefined;
      fail = false;
      @stage.transition({ source: 'cart', target: 'paying' })
      pay(): unknown {
        const gateway = this.gateway;
        if (gateway === undefined) return 'paid at once';
        return (async () => {
          await gateway.promise;
          const confirmed = this.confirm();
          if (this.fail) throw new Error('declined after confirming');
          return confirmed;
        })();
      }
      @stage.transition({ source: 'paying', target: 'paid' })
      confirm() {
        return 'confirmed';
      }
      @stage.transition({ source: 'paid', target: 'shipped' })
      ship() {
        return 'shipped';
      }
    }
    class HookedOrder extends Order {
      @stage.after() done() {}
    }
    const Flow = hooked ? HookedOrder : Order;
    // Warm: two synchronous calls, so the runtime has learned that pay() returns no promise.
    for (let i = 0; i < 2; i++) assert.equal(new Flow().pay(), 'paid at once');
    return { stage, Order: Flow };
  }

  for (const hooked of [false, true]) {
    describe(hooked ? 'on a class with hooks' : 'on a class without hooks (the fast path)', () => {
      test('a transition it chains after an await runs, and the call settles (no deadlock)', async () => {
        const { stage, Order } = orderClass(hooked);
        const order = new Order();
        order.gateway = deferred();
        const call = order.pay();
        assert.ok(isPromise(call));
        order.gateway.resolve();
        assert.equal(await within(call, 500, 'pay() chaining confirm() after an await'), 'confirmed');
        assert.equal(stage.get(order), 'paid');
        assert.equal(order.ship(), 'shipped', 'the flow is not left busy: a sync call is synchronous again');
      });

      test('a rejection after the chained call undoes the whole chain and rejects with the same error', async () => {
        const { stage, Order } = orderClass(hooked);
        const order = new Order();
        order.gateway = deferred();
        order.fail = true;
        const call = order.pay() as Promise<unknown>;
        order.gateway.resolve();
        await assert.rejects(within(call, 500, 'pay() failing after confirm()'), /declined after confirming/);
        assert.equal(stage.get(order), 'cart');
      });

      test('a rejecting promise rolls back to the source; the flow works normally afterwards', async () => {
        const { stage, Order } = orderClass(hooked);
        const order = new Order();
        order.gateway = deferred();
        const call = order.pay() as Promise<unknown>;
        assert.equal(stage.get(order), 'paying');
        order.gateway.reject(new Error('gateway down'));
        await assert.rejects(within(call, 500, 'pay() rejecting'), /gateway down/);
        assert.equal(stage.get(order), 'cart');
        order.gateway = undefined;
        assert.equal(order.pay(), 'paid at once');
        assert.equal(stage.get(order), 'paying');
      });

      test('waiters are woken once the call has settled, for the states it kept', async () => {
        const { stage, Order } = orderClass(hooked);
        const order = new Order();
        order.gateway = deferred();
        const call = order.pay() as Promise<unknown>;
        const paid = stage.waitFor(order, 'paid');
        assert.equal(await settlement(paid), 'pending');
        order.gateway.resolve();
        await within(call, 500, 'pay()');
        assert.equal(await within(paid, 500, 'waitFor(paid)'), 'paid');
      });
    });
  }
});

test('a hook not declared async that ran synchronously before, then returns a promise and chains after an await, settles', async () => {
  const stage = new State(STAGES, { default: 'cart' });
  class Order {
    gateway: Deferred | undefined;
    @stage.transition({ source: 'cart', target: 'paying' }) pay() {}
    @stage.transition({ source: 'paying', target: 'paid' }) confirm() {}
    @stage.onSuccess() confirmLater(event: HookEvent<Stage>): unknown {
      const gateway = this.gateway;
      if (event.transition !== 'pay' || gateway === undefined) return undefined;
      return (async () => {
        await gateway.promise;
        this.confirm();
      })();
    }
  }
  for (let i = 0; i < 2; i++) new Order().pay();
  const order = new Order();
  order.gateway = deferred();
  const call = order.pay() as unknown as Promise<unknown>;
  assert.ok(isPromise(call));
  order.gateway.resolve();
  await within(call, 500, 'pay() whose onSuccess hook chains confirm() after an await');
  assert.equal(stage.get(order), 'paid');
});

describe('async hooks', () => {
  test('are awaited in order; the state is written only after the before hooks settle', async () => {
    const stage = new State(STAGES, { default: 'cart' });
    const log: string[] = [];
    const gates = { b1: deferred(), b2: deferred(), s1: deferred(), a1: deferred() };
    class Order {
      @stage.transition({ source: 'cart', target: 'paying' })
      pay() {
        log.push(`body in ${stage.get(this)}`);
        return 'done';
      }
    }
    const hook = (name: keyof typeof gates) => async (e: HookEvent<Stage>) => {
      log.push(`${name} start in ${stage.get(e.flow)}`);
      await gates[name].promise;
      log.push(`${name} end`);
    };
    stage.hook(Order, 'before', hook('b2'), { order: 2 });
    stage.hook(Order, 'before', hook('b1'), { order: 1 });
    stage.hook(Order, 'success', hook('s1'));
    stage.hook(Order, 'after', hook('a1'));

    const order = new Order();
    const call = order.pay();
    assert.ok(isPromise(call), 'an async hook makes the call return a promise');
    await flush();
    assert.deepEqual(log, ['b1 start in cart']);
    assert.equal(stage.get(order), 'cart');

    gates.b1.resolve();
    await flush();
    assert.deepEqual(log.slice(1), ['b1 end', 'b2 start in cart']);
    assert.equal(stage.get(order), 'cart');

    gates.b2.resolve();
    await flush();
    assert.deepEqual(log.slice(3), ['b2 end', 'body in paying', 's1 start in paying']);

    gates.s1.resolve();
    await flush();
    assert.deepEqual(log.slice(6), ['s1 end', 'a1 start in paying']);
    assert.equal(await settlement(call), 'pending', 'the call waits for its after hook');

    gates.a1.resolve();
    assert.equal(await call, 'done');
    assert.equal(log.at(-1), 'a1 end');
  });

  test('an async onSuccess hook that rejects rolls the transition back', async () => {
    const { stage, Order } = orderFlow();
    stage.hook(Order, 'success', async () => {
      await Promise.resolve();
      throw new Error('audit failed');
    });
    const order = new Order();
    order.gateway.resolve('r');
    await assert.rejects(order.pay(), /audit failed/);
    assert.equal(stage.get(order), 'cart');
    assert.deepEqual(order.writes, ['paying', 'cart']);
  });

  test('an async before hook that rejects aborts with nothing written', async () => {
    const { stage, Order, log } = orderFlow();
    stage.hook(Order, 'before', async () => {
      await Promise.resolve();
      throw new Error('not today');
    });
    const order = new Order();
    await assert.rejects(order.pay(), /not today/);
    assert.deepEqual(order.writes, []);
    assert.deepEqual(log, []);
  });
});

describe('calls on one flow never interleave', () => {
  test('two outside calls racing: the second waits, checks its source at its turn, and is refused', async () => {
    const { stage, Order, log } = orderFlow();
    const order = new Order();
    const first = order.pay();
    const second = order.pay();
    assert.ok(isPromise(second));
    await flush();
    assert.deepEqual(log, ['pay:start in paying'], 'the second call has not started');
    assert.equal(await settlement(second), 'pending');

    order.gateway.resolve('r1');
    assert.equal(await first, 'r1');
    await assert.rejects(second, (e: unknown) => {
      assert.ok(e instanceof TransitionNotAllowed);
      assert.equal(e.transition, 'pay');
      assert.equal(e.state, 'paying');
      assert.equal(e.reason, 'source');
      return true;
    });
    assert.deepEqual(log, ['pay:start in paying', 'pay:end in paying']);
    assert.equal(stage.get(order), 'paying');
    assert.deepEqual(order.writes, ['paying']);
  });

  test('a sync transition called while an async one is in flight returns a promise and runs after it', async () => {
    const { stage, Order, log } = orderFlow();
    const order = new Order();
    const paying = order.pay();
    // Already in "paying": without queueing, confirm() would run now, in the middle of pay().
    const confirming = order.confirm();
    assert.ok(isPromise(confirming));
    await flush();
    assert.deepEqual(log, ['pay:start in paying']);
    order.gateway.resolve('r');
    await paying;
    assert.equal(await confirming, 'confirmed');
    assert.deepEqual(log, ['pay:start in paying', 'pay:end in paying', 'confirm']);
    assert.equal(stage.get(order), 'paid');
  });

  test('a queued call whose predecessor rolled back is checked against the rolled-back state', async () => {
    const { stage, Order, log } = orderFlow();
    const order = new Order();
    const paying = order.pay();
    const confirming = order.confirm() as unknown as Promise<unknown>;
    order.gateway.reject(new Error('declined'));
    await assert.rejects(paying, /declined/);
    await assert.rejects(confirming, (e: unknown) => e instanceof TransitionNotAllowed && e.state === 'cart');
    assert.ok(!log.includes('confirm'));
    assert.equal(stage.get(order), 'cart');
  });

  test('queued calls run one at a time, in the order they were made', async () => {
    const { stage, Order, log } = orderFlow();
    const order = new Order();
    const calls = [order.pay(), order.confirm(), order.ship()];
    await flush();
    assert.deepEqual(log, ['pay:start in paying']);
    order.gateway.resolve('r');
    await flush();
    assert.deepEqual(log, ['pay:start in paying', 'pay:end in paying', 'confirm', 'ship:start']);
    assert.equal(stage.get(order), 'shipped');
    order.shipping.resolve();
    await Promise.all(calls);
    assert.deepEqual(log.slice(-1), ['ship:end']);
    assert.equal(stage.get(order), 'shipped');
  });

  test('a call on another flow instance is not held up', async () => {
    const { stage, Order, log } = orderFlow();
    const busy = new Order();
    const other = new Order();
    other.stage = 'paying';
    const paying = busy.pay();
    const result = other.confirm();
    assert.equal(result, 'confirmed', 'runs synchronously, not queued behind another instance');
    assert.equal(stage.get(other), 'paid');
    busy.gateway.resolve('r');
    await paying;
    assert.deepEqual(log, ['pay:start in paying', 'confirm', 'pay:end in paying']);
  });

  test('once the async call settled, the sync transitions of that flow are synchronous again', async () => {
    const { Order } = orderFlow();
    const order = new Order();
    const paying = order.pay();
    const refused = order.pay();
    order.gateway.resolve('r');
    await paying;
    await assert.rejects(refused, TransitionNotAllowed);
    const result = order.confirm();
    assert.equal(result, 'confirmed');
  });
});

describe('chaining inside an async transition', () => {
  test('a chained call after an await runs at once, synchronously (no deadlock)', async () => {
    const { stage, Order, log } = orderFlow();
    const order = new Order();
    const call = order.payAndConfirm();
    order.gateway.resolve('r');
    assert.equal(await within(call, 1000, 'payAndConfirm()'), 'confirmed');
    assert.deepEqual(log, ['confirm', 'chained confirm returned confirmed in paid']);
    assert.equal(stage.get(order), 'paid');
  });

  test('an awaited chained async call runs at once, and an outside call still waits for the whole chain', async () => {
    const stage = new State(STAGES, { default: 'cart' });
    const log: string[] = [];
    class Order {
      gateway = deferred();
      shipping = deferred();
      @stage.transition({ source: 'cart', target: 'paying' })
      async checkout() {
        await this.gateway.promise;
        this.confirm();
        await this.ship();
        log.push('checkout done');
      }
      @stage.transition({ source: 'paying', target: 'paid' }) confirm() {}
      @stage.transition({ source: 'paid', target: 'shipped' })
      async ship() {
        log.push('ship start');
        await this.shipping.promise;
        log.push('ship end');
      }
      @stage.transition({ source: State.ANY }) inspect() {
        log.push(`outside sees ${stage.get(this)}`);
      }
    }
    const order = new Order();
    const call = order.checkout();
    const outside = order.inspect();
    order.gateway.resolve();
    await flush();
    assert.deepEqual(log, ['ship start']);
    order.shipping.resolve();
    await within(call, 1000, 'checkout()');
    await outside;
    assert.deepEqual(log, ['ship start', 'ship end', 'checkout done', 'outside sees shipped']);
  });

  test('an outer rejection after a chained call undoes the whole chain', async () => {
    const stage = new State(STAGES, { default: 'cart' });
    class Order {
      gateway = deferred();
      @stage.transition({ source: 'cart', target: 'paying' })
      async checkout() {
        await Promise.resolve();
        this.confirm();
        await this.gateway.promise;
      }
      @stage.transition({ source: 'paying', target: 'paid' }) confirm() {}
    }
    const order = new Order();
    const call = order.checkout();
    await flush();
    assert.equal(stage.get(order), 'paid');
    order.gateway.reject(new Error('late failure'));
    await assert.rejects(call, /late failure/);
    assert.equal(stage.get(order), 'cart');
  });
});

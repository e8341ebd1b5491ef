/**
 * Counterexamples the property suite found, shrunk by hand to plain tests. Each asserts the
 * behaviour the contract asks for.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as macrotask } from 'node:timers/promises';
import { State } from 'transitional';

type Abc = 'a' | 'b' | 'c';

/** Rejects when `promise` has not settled after `ms`, instead of hanging the suite. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms (deadlock)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Tracks a waiter's promise: 'pending', 'resolved' or 'rejected'. */
function track(promise: Promise<unknown>): { status: string } {
  const w = { status: 'pending' };
  promise.then(
    () => (w.status = 'resolved'),
    () => (w.status = 'rejected'),
  );
  return w;
}

describe('chaining from asynchronous user code of a transition whose body is not async', () => {
  test('an async onSuccess hook can call a transition after an await, on every call', async () => {
    const s = new State(['a', 'b', 'c'] as const, { default: 'a' });
    class Flow {
      value: Abc | undefined = undefined;
      @s.getter() read() { return this.value; }
      @s.setter() write(v: Abc) { this.value = v; }
      @s.transition({ source: 'a', target: 'b' }) submit() {}
      @s.transition({ source: 'b', target: 'c' }) async finish() {}
      @s.onSuccess() async next(e: { transition: string }) {
        await null;
        if (e.transition === 'submit') await this.finish();
      }
    }
    const flow = new Flow();
    for (const round of [1, 2]) {
      flow.value = 'a';
      // The hook's call to finish() comes from inside submit(): it must run at once, not queue behind submit().
      await within(Promise.resolve(flow.submit()), 1000, `call #${round}`);
      assert.equal(flow.value, 'c', `call #${round}`);
    }
  });

  test('a plain body returning a promise can call a transition after an await, on every call', async () => {
    const s = new State(['a', 'b', 'c'] as const, { default: 'a' });
    class Flow {
      value: Abc | undefined = undefined;
      @s.getter() read() { return this.value; }
      @s.setter() write(v: Abc) { this.value = v; }
      @s.transition({ source: 'a', target: 'b' })
      send() {
        return (async () => {
          await null;
          await this.complete();
        })();
      }
      @s.transition({ source: 'b', target: 'c' }) async complete() {}
    }
    const flow = new Flow();
    for (const round of [1, 2]) {
      flow.value = 'a';
      await within(Promise.resolve(flow.send()), 1000, `call #${round}`);
      assert.equal(flow.value, 'c', `call #${round}`);
    }
  });
});

describe('waiters registered inside a running transition', () => {
  test('are not woken by a nested call that ends while the outer call can still roll back', async () => {
    const s = new State(['a', 'b', 'c'] as const, { default: 'a' });
    let waiter = { status: 'none' };
    class Flow {
      @s.transition({ source: 'a', target: 'b' })
      go() {
        waiter = track(s.waitFor(this, 'b'));
        try {
          this.fail();
        } catch {
          // the nested call failed and rolled back to 'b'; go on
        }
        throw new Error('go fails: the flow goes back to a');
      }
      @s.transition({ source: 'b', target: 'c' }) fail() { throw new Error('inner failure'); }
    }
    const flow = new Flow();
    assert.throws(() => flow.go(), /go fails/);
    await macrotask();
    assert.equal(s.get(flow), 'a');
    assert.equal(waiter.status, 'pending', "'b' was rolled back: the waiter must not resolve");
  });
});

describe('hooks registered from outside on an intermediate class', () => {
  test('apply to subclasses defined before the registration', () => {
    const s = new State(['a', 'b'] as const, { default: 'a' });
    class Base {
      @s.transition({ source: 'a', target: 'b' }) go() {}
    }
    class Middle extends Base {}
    class Leaf extends Middle {
      @s.transition({ source: 'b', target: 'a' }) back() {}
    }
    const seen: string[] = [];
    s.hook(Middle, 'before', (e) => void seen.push(`${e.flow.constructor.name}.${e.transition}`));
    new Middle().go();
    new Leaf().go();
    new Base().go();
    assert.deepEqual(seen, ['Middle.go', 'Leaf.go']);
  });
});

describe('states kept by a transition that a before hook called', () => {
  test('wake waiters even when a before hook then aborts the outer call', async () => {
    const s = new State(['a', 'b', 'c'] as const, { default: 'a' });
    class Flow {
      value: Abc | undefined = undefined;
      @s.getter() read() { return this.value; }
      @s.setter() write(v: Abc) { this.value = v; }
      @s.transition({ source: 'a', target: 'b' }) prepare() {}
      @s.transition({ source: ['a', 'b'], target: 'c' }) go() {}
      @s.before() check(e: { transition: string }) {
        if (e.transition !== 'go') return;
        this.prepare(); // runs at once and stands
        throw new Error('abort go');
      }
    }
    const flow = new Flow();
    const waiter = track(s.waitFor(flow, 'b'));
    assert.throws(() => flow.go(), /abort go/);
    await macrotask();
    assert.equal(flow.value, 'b', 'prepare() stood: the flow is in b');
    assert.equal(waiter.status, 'resolved', 'the flow entered b and kept it');
  });
});

describe('a transition without target that throws after a chained call', () => {
  test('undoes the chain: the state goes back to where the call started', async () => {
    const s = new State(['a', 'b'] as const, { default: 'a' });
    class Flow {
      value: 'a' | 'b' | undefined = undefined;
      readonly writes: string[] = [];
      @s.getter() read() { return this.value; }
      @s.setter() write(v: 'a' | 'b') { this.writes.push(v); this.value = v; }
      @s.transition({ source: 'a', target: 'b' }) open() {}
      @s.transition({ source: 'a' })
      check() {
        this.open();
        throw new Error('check failed');
      }
    }
    const flow = new Flow();
    const waiter = track(s.waitFor(flow, 'b'));
    assert.throws(() => flow.check(), /check failed/);
    await macrotask();
    // README, Chaining: "If the outer body throws after a chained call succeeded, the whole chain is undone."
    assert.equal(flow.value, 'a');
    assert.deepEqual(flow.writes, ['b', 'a']);
    assert.equal(waiter.status, 'pending', "'b' was undone");
  });
});

describe('states entered by a transition that a before hook called, then undone by the rollback', () => {
  test('do not wake waiters', async () => {
    const s = new State(['a', 'b', 'c'] as const, { default: 'a' });
    class Flow {
      value: Abc | undefined = undefined;
      readonly writes: Abc[] = [];
      @s.getter() read() { return this.value; }
      @s.setter() write(v: Abc) { this.writes.push(v); this.value = v; }
      @s.transition({ source: 'a', target: 'b' }) prepare() {}
      @s.transition({ source: ['a', 'b'], target: 'c' }) go() { throw new Error('go fails'); }
      @s.before() prepareFirst(e: { transition: string }) { if (e.transition === 'go') this.prepare(); }
    }
    const flow = new Flow();
    const waiter = track(s.waitFor(flow, 'b'));
    assert.throws(() => flow.go(), /go fails/);
    await macrotask();
    // go() started from 'a' (read before its hooks ran): the rollback writes 'a' over prepare()'s 'b'.
    assert.deepEqual(flow.writes, ['b', 'c', 'a']);
    assert.equal(waiter.status, 'pending', "'b' was undone by go()'s rollback");
  });
});

describe('a waiter registered inside a call, for a state the call entered before and kept', () => {
  // README, Ordered states and waiting: waiters wake when the outermost call completes, for each state it entered and
  // kept. Whether another waiter happened to be pending must not change the outcome.
  const s = new State(['a', 'b', 'c', 'z'] as const, { default: 'a' });

  test('wakes, whether or not the flow had other waiters (sync)', async () => {
    class Flow {
      waiter = { status: 'none' };
      @s.transition({ source: 'a', target: 'b' }) go() { this.waiter = track(s.waitFor(this, 'b')); this.next(); }
      @s.transition({ source: 'b', target: 'c' }) next() {}
    }
    const plain = new Flow();
    const watched = new Flow();
    void s.waitFor(watched, 'z');
    plain.go();
    watched.go();
    await macrotask();
    assert.deepEqual([plain.waiter.status, watched.waiter.status], ['resolved', 'resolved']);
  });

  // The library's rule: a wait made during a call counts the states entered from then on (the value
  // it finds included), like a wait made outside a call. Here 'b' was left before the wait existed.
  test('concerns only states from its registration on, whether or not the flow had other waiters (registered in a chained call)', async () => {
    class Flow {
      waiter = { status: 'none' };
      @s.transition({ source: 'a', target: 'b' }) go() { this.next(); }
      @s.transition({ source: 'b', target: 'c' }) next() { this.waiter = track(s.waitFor(this, 'b')); }
    }
    const plain = new Flow();
    const watched = new Flow();
    void s.waitFor(watched, 'z');
    plain.go();
    watched.go();
    await macrotask();
    assert.deepEqual([plain.waiter.status, watched.waiter.status], ['pending', 'pending']);
  });

  test('wakes, whether or not the flow had other waiters (async)', async () => {
    class Flow {
      waiter = { status: 'none' };
      @s.transition({ source: 'a', target: 'b' })
      async go() {
        await null;
        this.waiter = track(s.waitFor(this, 'b'));
        await this.next();
      }
      @s.transition({ source: 'b', target: 'c' }) async next() {}
    }
    const plain = new Flow();
    const watched = new Flow();
    void s.waitFor(watched, 'z');
    await plain.go();
    await watched.go();
    await macrotask();
    assert.deepEqual([plain.waiter.status, watched.waiter.status], ['resolved', 'resolved']);
  });
});

describe('a chained call that changes another State, inside a call that then fails', () => {
  test('keeps that change, and wakes its waiters', async () => {
    const stage = new State(['a', 'b'] as const, { default: 'a', name: 'stage' });
    const flag = new State(['x', 'y'] as const, { default: 'x', name: 'flag' });
    class Flow {
      @stage.transition({ source: 'a', target: 'b' })
      go() {
        this.mark();
        throw new Error('go fails');
      }
      @flag.transition({ source: 'x', target: 'y' }) mark() {}
    }
    const flow = new Flow();
    const waiter = track(flag.waitFor(flow, 'y'));
    assert.throws(() => flow.go(), /go fails/);
    await macrotask();
    // go() rolls back its own State; mark() changed another one, which go() has no lane for.
    assert.deepEqual([stage.get(flow), flag.get(flow)], ['a', 'y']);
    assert.equal(waiter.status, 'resolved', "the flow entered flag 'y' and kept it");
  });
});

/**
 * Waiting for a state (README, Ordered states and waiting): `waitFor`, `waitForAtLeast`, `StateSkipped`, which states wake
 * waiters (only kept ones, in order, when the outermost call completes), and cancellation with an
 * `AbortSignal` that leaves no listener behind.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { State, StateSkipped } from 'transitional';
import { deferred, flush, settlement } from './support.ts';

const LINK = ['closed', 'connecting', 'handshake', 'established', 'closing'] as const;
type Link = (typeof LINK)[number];

/** A connection with ordered states; `gate` is what `openAsync` awaits. */
function connectionFlow() {
  const link = new State(LINK, { default: 'closed', ordered: true, name: 'link' });
  class Connection {
    gate = deferred();
    @link.transition({ source: 'closed', target: 'connecting' }) connect() {}
    @link.transition({ source: 'connecting', target: 'handshake' }) greet() {}
    @link.transition({ source: 'handshake', target: 'established' }) establish() {}
    /** Skips the handshake. */
    @link.transition({ source: 'connecting', target: 'established' }) fastOpen() {}
    @link.transition({ source: 'connecting', target: 'handshake' }) greetBadly() {
      throw new Error('handshake refused');
    }
    @link.transition({ source: 'connecting', target: 'established', onError: 'closing' }) openOrClose() {
      throw new Error('open failed');
    }
    @link.transition({ source: 'connecting', target: 'established' }) async openAsync() {
      await this.gate.promise;
    }
    /** closed → connecting → handshake → established in one outermost call. */
    @link.transition({ source: 'closed', target: 'connecting' }) dial() {
      this.greet();
      this.establish();
    }
    /** Connects, tries a handshake that fails (and rolls back), and carries on. */
    @link.transition({ source: 'closed', target: 'connecting' }) dialTrying() {
      try {
        this.greetBadly();
      } catch {
        // the inner transition rolled back to connecting
      }
    }
    @link.transition({ source: State.ANY, target: 'closing' }) close() {}
    @link.transition({ source: 'closing', target: 'closed', rewind: true }) reset() {}
  }
  return { link, Connection };
}

/** Records the order in which promises settle. */
function recorder() {
  const events: string[] = [];
  const watch = (name: string, p: Promise<unknown>) =>
    p.then(
      (v) => void events.push(`${name} resolved ${String(v)}`),
      (e: unknown) => void events.push(`${name} rejected ${(e as Error).name}`),
    );
  return { events, watch };
}

function isSkipped(skipped: Link, state: Link) {
  return (e: unknown) => {
    assert.ok(e instanceof StateSkipped, `expected StateSkipped, got ${String(e)}`);
    assert.equal(e.name, 'StateSkipped');
    assert.equal(e.skipped, skipped);
    assert.equal(e.state, state);
    assert.match(e.message, new RegExp(`"${skipped}"`));
    return true;
  };
}

describe('waitFor on an ordered State', () => {
  test('resolves when the flow enters the value', async () => {
    const { link, Connection } = connectionFlow();
    const c = new Connection();
    const waiting = link.waitFor(c, 'established');
    c.connect();
    assert.equal(await settlement(waiting), 'pending');
    c.greet();
    assert.equal(await settlement(waiting), 'pending');
    c.establish();
    assert.equal(await waiting, 'established');
  });

  test('resolves at once when the flow is already there', async () => {
    const { link, Connection } = connectionFlow();
    const c = new Connection();
    c.connect();
    c.fastOpen();
    const waiting = link.waitFor(c, 'established');
    assert.equal(await settlement(waiting), 'resolved');
    assert.equal(await waiting, 'established');
    assert.equal(await link.waitFor(new Connection(), 'closed'), 'closed', 'the default value counts as being there');
  });

  test('rejects with StateSkipped { skipped, state } once a later value is entered', async () => {
    const { link, Connection } = connectionFlow();
    const c = new Connection();
    c.connect();
    const waiting = link.waitFor(c, 'handshake');
    c.fastOpen();
    await assert.rejects(waiting, isSkipped('handshake', 'established'));
  });

  test('rejects with StateSkipped at once when the flow is already past the value', async () => {
    const { link, Connection } = connectionFlow();
    const c = new Connection();
    c.connect();
    c.fastOpen();
    const waiting = link.waitFor(c, 'connecting');
    assert.equal(await settlement(waiting), 'rejected');
    await assert.rejects(waiting, isSkipped('connecting', 'established'));
  });

  test('a waiter for an earlier value stays pending while the flow is before it', async () => {
    const { link, Connection } = connectionFlow();
    const c = new Connection();
    const waiting = link.waitFor(c, 'closing');
    c.connect();
    c.greet();
    assert.equal(await settlement(waiting), 'pending');
    c.close();
    assert.equal(await waiting, 'closing');
  });
});

describe('waitForAtLeast', () => {
  test('resolves once the state is the value or a later one', async () => {
    const { link, Connection } = connectionFlow();
    const exact = new Connection();
    const a = link.waitForAtLeast(exact, 'handshake');
    exact.connect();
    assert.equal(await settlement(a), 'pending');
    exact.greet();
    assert.equal(await settlement(a), 'resolved');

    const skipping = new Connection();
    const b = link.waitForAtLeast(skipping, 'handshake');
    skipping.connect();
    skipping.fastOpen();
    assert.equal(await settlement(b), 'resolved', 'a later value satisfies it: no StateSkipped');
  });

  test('resolves at once when the state is already the value or later', async () => {
    const { link, Connection } = connectionFlow();
    const c = new Connection();
    c.connect();
    c.fastOpen();
    assert.equal(await settlement(link.waitForAtLeast(c, 'established')), 'resolved');
    assert.equal(await settlement(link.waitForAtLeast(c, 'connecting')), 'resolved');
    assert.equal(await settlement(link.waitForAtLeast(c, 'closing')), 'pending');
  });

  test('library choice: waitForAtLeast on an unordered State rejects with a TypeError', async () => {
    const plain = new State(['a', 'b'] as const, { default: 'a' });
    class Flow {
      @plain.transition({ source: 'a', target: 'b' }) go() {}
    }
    await assert.rejects(plain.waitForAtLeast(new Flow(), 'b'), TypeError);
  });
});

describe('waitFor on an unordered State', () => {
  test('never rejects as skipped: it resolves whenever the value is entered, even after leaving it', async () => {
    const door = new State(['closed', 'open', 'locked'] as const, { default: 'closed' });
    class Door {
      @door.transition({ source: 'closed', target: 'open' }) open() {}
      @door.transition({ source: 'open', target: 'closed' }) shut() {}
      @door.transition({ source: 'closed', target: 'locked' }) lock() {}
      @door.transition({ source: 'locked', target: 'closed' }) unlock() {}
    }
    const d = new Door();
    d.open();
    const waiting = door.waitFor(d, 'locked');
    d.shut();
    assert.equal(await settlement(waiting), 'pending');
    d.open();
    d.shut();
    d.lock();
    assert.equal(await waiting, 'locked');

    const back = door.waitFor(d, 'open');
    d.unlock();
    assert.equal(await settlement(back), 'pending', 'a value declared earlier is not "past" on an unordered State');
    d.open();
    assert.equal(await back, 'open');
  });
});

describe('which states wake waiters', () => {
  test('not a state entered by a transition that then rolled back', async () => {
    const { link, Connection } = connectionFlow();
    const c = new Connection();
    c.connect();
    const handshake = link.waitFor(c, 'handshake');
    const already = link.waitFor(c, 'connecting');
    assert.equal(await already, 'connecting');
    assert.throws(() => c.greetBadly(), /handshake refused/);
    assert.equal(await settlement(handshake), 'pending');
    c.greet();
    assert.equal(await handshake, 'handshake');
  });

  test('the onError value of a failed transition is kept, so it wakes waiters (and skips earlier ones)', async () => {
    const { link, Connection } = connectionFlow();
    const c = new Connection();
    c.connect();
    const established = link.waitFor(c, 'established');
    const closing = link.waitFor(c, 'closing');
    assert.throws(() => c.openOrClose(), /open failed/);
    assert.equal(await closing, 'closing');
    await assert.rejects(established, isSkipped('established', 'closing'));
  });

  test('not a state entered by a chained transition that rolled back while the outer call went on', async () => {
    const { link, Connection } = connectionFlow();
    const c = new Connection();
    const connecting = link.waitFor(c, 'connecting');
    const handshake = link.waitFor(c, 'handshake');
    c.dialTrying();
    assert.equal(link.get(c), 'connecting');
    assert.equal(await connecting, 'connecting');
    assert.equal(await settlement(handshake), 'pending');
  });

  test('not a state entered by an async transition that then rejected', async () => {
    const { link, Connection } = connectionFlow();
    const c = new Connection();
    c.connect();
    const established = link.waitFor(c, 'established');
    const call = c.openAsync();
    assert.equal(link.get(c), 'established');
    c.gate.reject(new Error('timeout'));
    await assert.rejects(call, /timeout/);
    assert.equal(await settlement(established), 'pending');
    assert.equal(link.get(c), 'connecting');
  });

  test('each state a chain entered and kept, in order, when the outermost call completes', async () => {
    const { link, Connection } = connectionFlow();
    const c = new Connection();
    const { events, watch } = recorder();
    // Registered latest-first, to show the order follows the chain, not registration.
    const all = [
      watch('established', link.waitFor(c, 'established')),
      watch('handshake', link.waitFor(c, 'handshake')),
      watch('connecting', link.waitFor(c, 'connecting')),
      watch('at least handshake', link.waitForAtLeast(c, 'handshake')),
    ];
    c.dial();
    await Promise.all(all);
    assert.deepEqual(events, [
      'connecting resolved connecting',
      'handshake resolved handshake',
      'at least handshake resolved handshake',
      'established resolved established',
    ]);
  });

  test('an async transition wakes its waiters when it completes, not when its state is set', async () => {
    const { link, Connection } = connectionFlow();
    const c = new Connection();
    c.connect();
    const established = link.waitFor(c, 'established');
    const call = c.openAsync();
    assert.equal(link.get(c), 'established');
    assert.equal(await settlement(established), 'pending');
    c.gate.resolve();
    await call;
    assert.equal(await established, 'established');
  });
});

describe('a wait registered while a transition is running', () => {
  test('during an async transition, for its target: decided when it completes (resolves on success)', async () => {
    const { link, Connection } = connectionFlow();
    const c = new Connection();
    c.connect();
    const call = c.openAsync();
    const established = link.waitFor(c, 'established');
    assert.equal(await settlement(established), 'pending', 'not resolved from a state that may still roll back');
    c.gate.resolve();
    await call;
    assert.equal(await established, 'established');
  });

  test('during an async transition, for its target: stays pending when it rolls back', async () => {
    const { link, Connection } = connectionFlow();
    const c = new Connection();
    c.connect();
    const call = c.openAsync();
    const established = link.waitFor(c, 'established');
    c.gate.reject(new Error('timeout'));
    await assert.rejects(call, /timeout/);
    assert.equal(await settlement(established), 'pending');
  });

  test('during an async transition, for its source: resolves if it rolls back, skipped if it succeeds', async () => {
    const { link, Connection } = connectionFlow();
    const failing = new Connection();
    failing.connect();
    const call1 = failing.openAsync();
    const back = link.waitFor(failing, 'connecting');
    assert.equal(await settlement(back), 'pending', 'not judged "skipped" from a state that may still roll back');
    failing.gate.reject(new Error('timeout'));
    await assert.rejects(call1, /timeout/);
    assert.equal(await back, 'connecting');

    const succeeding = new Connection();
    succeeding.connect();
    const call2 = succeeding.openAsync();
    const skipped = link.waitFor(succeeding, 'connecting');
    succeeding.gate.resolve();
    await call2;
    await assert.rejects(skipped, isSkipped('connecting', 'established'));
  });

  test('during an async transition: a state a chained call entered does not wake it when the outer call rolls back', async () => {
    const link = new State(LINK, { default: 'closed', ordered: true });
    class Connection {
      gate = deferred();
      @link.transition({ source: 'closed', target: 'connecting' }) async open() {
        await Promise.resolve();
        this.greet();
        await this.gate.promise;
      }
      @link.transition({ source: 'connecting', target: 'handshake' }) greet() {}
    }
    const c = new Connection();
    // Nobody waits before the call: the flow starts waiting only while open() is in flight.
    const call = c.open();
    const handshake = link.waitFor(c, 'handshake');
    await flush();
    assert.equal(link.get(c), 'handshake');
    c.gate.reject(new Error('reset by peer'));
    await assert.rejects(call, /reset by peer/);
    assert.equal(link.get(c), 'closed');
    assert.equal(await settlement(handshake), 'pending');
  });

  test('inside a sync transition body, for its target: a rolled-back target never resolves it', async () => {
    const link = new State(LINK, { default: 'closed', ordered: true });
    class Connection {
      waiting: Promise<Link> | undefined;
      @link.transition({ source: 'closed', target: 'connecting' }) connect() {
        this.waiting = link.waitFor(this, 'connecting');
        throw new Error('no route');
      }
    }
    const c = new Connection();
    assert.throws(() => c.connect(), /no route/);
    assert.equal(link.get(c), 'closed');
    assert.equal(await settlement(c.waiting!), 'pending');
  });
});

describe('cancelling a wait with an AbortSignal', () => {
  test('aborting rejects with signal.reason and removes the listener', async () => {
    const { link, Connection } = connectionFlow();
    const c = new Connection();
    const controller = new AbortController();
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    const waiting = link.waitFor(c, 'established', { signal: controller.signal });
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    const reason = new Error('user gave up');
    controller.abort(reason);
    await assert.rejects(waiting, (e) => e === reason);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  test('aborting without a reason rejects with the signal\'s default reason (an AbortError)', async () => {
    const { link, Connection } = connectionFlow();
    const controller = new AbortController();
    const waiting = link.waitForAtLeast(new Connection(), 'established', { signal: controller.signal });
    controller.abort();
    await assert.rejects(waiting, (e) => e === controller.signal.reason && (e as Error).name === 'AbortError');
  });

  test('an already aborted signal rejects at once and adds no listener', async () => {
    const { link, Connection } = connectionFlow();
    const reason = new Error('too late');
    const signal = AbortSignal.abort(reason);
    const waiting = link.waitFor(new Connection(), 'established', { signal });
    assert.equal(await settlement(waiting), 'rejected');
    await assert.rejects(waiting, (e) => e === reason);
    assert.equal(getEventListeners(signal, 'abort').length, 0);
  });

  test('a wait that settles normally removes its listener too (the same function it added)', async () => {
    const { link, Connection } = connectionFlow();
    const c = new Connection();
    const controller = new AbortController();
    const signal = controller.signal;
    const added: unknown[] = [];
    const removed: unknown[] = [];
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((type: 'abort', fn: () => void, options?: object) => {
      added.push(fn);
      add(type, fn, options);
    }) as typeof signal.addEventListener;
    signal.removeEventListener = ((type: 'abort', fn: () => void, options?: object) => {
      removed.push(fn);
      remove(type, fn, options);
    }) as typeof signal.removeEventListener;

    const resolved = link.waitFor(c, 'connecting', { signal });
    const skipped = link.waitFor(c, 'handshake', { signal });
    c.connect();
    assert.equal(await resolved, 'connecting');
    c.fastOpen();
    await assert.rejects(skipped, StateSkipped);
    assert.equal(added.length, 2);
    assert.deepEqual(new Set(removed), new Set(added));
    assert.equal(getEventListeners(signal, 'abort').length, 0);

    controller.abort(new Error('after the fact'));
    await flush();
  });

  test('aborting one wait leaves other waits on the flow in place', async () => {
    const { link, Connection } = connectionFlow();
    const c = new Connection();
    const controller = new AbortController();
    const aborted = link.waitFor(c, 'connecting', { signal: controller.signal });
    const kept = link.waitFor(c, 'connecting');
    controller.abort(new Error('stop'));
    await assert.rejects(aborted, /stop/);
    c.connect();
    assert.equal(await kept, 'connecting');
  });
});

describe('bad waits', () => {
  test('a value the State does not declare rejects with a TypeError naming it', async () => {
    const { link, Connection } = connectionFlow();
    await assert.rejects(link.waitFor(new Connection(), 'open' as Link), (e: unknown) => e instanceof TypeError && /"open"/.test((e as Error).message));
  });

  test('an object that is not a flow of that State rejects with a TypeError', async () => {
    const { link } = connectionFlow();
    await assert.rejects(link.waitFor({}, 'closed'), TypeError);
  });
});

/**
 * Dynamic targets (README, Transitions): `target: (flow, ...args) => value` with `targets`. The
 * function runs after the `before` hooks and before the state is set; a value outside `targets` is
 * a `TypeError` and nothing changes. Hook events carry the computed target once it is computed.
 * Definitions are checked when the class is defined. Calls are made cold and warm.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State, TransitionNotAllowed, persistWith, type HookEvent, type TransitionStore, type UnitOfWork } from 'transitional';

const STAGES = ['paying', 'paid', 'review', 'failed', 'refunded'] as const;
type Stage = (typeof STAGES)[number];

function paymentClass(hooked: boolean) {
  const stage = new State(STAGES, { default: 'paying', name: 'stage' });
  const log: string[] = [];
  class Payment {
    value: Stage | undefined = undefined;
    readonly writes: Stage[] = [];
    @stage.getter() g() { return this.value; }
    @stage.setter() s(v: Stage) { this.writes.push(v); this.value = v; }

    /** Large amounts go to review; `route` lets a test return anything. */
    @stage.transition({
      source: 'paying',
      target: (p: Payment, amount: number, route?: unknown) => (route !== undefined ? (route as Stage) : amount > 1000 ? 'review' : 'paid'),
      targets: ['paid', 'review'],
      onError: 'failed',
    })
    confirm(amount: number, _route?: unknown) {
      log.push(`body in ${stage.get(this)} with ${amount}`);
      if (amount < 0) throw new Error('negative amount');
      return stage.get(this);
    }

    @stage.transition({ source: 'paid', target: 'refunded' }) refund() {}
  }
  class HookedPayment extends Payment {
    @stage.before() before(e: HookEvent<Stage>) {
      log.push(`before target=${e.target}`);
      if (e.args[0] === 'big') e.args[0] = 5000;
    }
    @stage.onExit('paying') exit(e: HookEvent<Stage>) {
      log.push(`exit target=${e.target}`);
    }
    @stage.onEnter('review') enterReview(e: HookEvent<Stage>) {
      log.push(`enter review target=${e.target}`);
    }
    @stage.onEnter('paid') enterPaid(e: HookEvent<Stage>) {
      log.push(`enter paid target=${e.target}`);
    }
    @stage.onError() error(e: HookEvent<Stage>) {
      log.push(`error target=${e.target}`);
    }
    @stage.after() after(e: HookEvent<Stage>) {
      log.push(`after target=${e.target}`);
    }
  }
  return { stage, log, Payment: hooked ? HookedPayment : Payment };
}

for (const hooked of [false, true]) {
  describe(`a dynamic target (${hooked ? 'with hooks' : 'without hooks'})`, () => {
    test('is computed from the flow and the arguments; the body runs in the computed state', () => {
      const { Payment } = paymentClass(hooked);
      for (let i = 0; i < 2; i++) {
        const small = new Payment();
        assert.equal(small.confirm(10), 'paid');
        assert.deepEqual(small.writes, ['paid']);
        const big = new Payment();
        assert.equal(big.confirm(5000), 'review');
        assert.deepEqual(big.writes, ['review']);
      }
    });

    test('a value outside targets: a TypeError naming it and the targets; nothing is written, the body does not run', () => {
      const { Payment, log } = paymentClass(hooked);
      for (let i = 0; i < 2; i++) {
        const p = new Payment();
        log.length = 0;
        assert.throws(() => p.confirm(10, 'refunded'), {
          name: 'TypeError',
          message: /Payment\.confirm\(\): its target function returned "refunded", which is not one of its targets \("paid", "review"\); return one of them, or add it to targets\./,
        });
        assert.equal(p.value, undefined);
        assert.deepEqual(p.writes, []);
        assert.ok(!log.some((l) => l.startsWith('body')), 'the body did not run');
      }
    });

    test('a body that throws rolls back (to onError\'s value here), whichever target was computed', () => {
      const { Payment } = paymentClass(hooked);
      for (let i = 0; i < 2; i++) {
        const p = new Payment();
        assert.throws(() => p.confirm(-1), /negative amount/);
        assert.deepEqual(p.writes, ['paid', 'failed']);
      }
    });

    test('the source is checked first', () => {
      const { Payment } = paymentClass(hooked);
      const p = new Payment();
      p.confirm(1);
      assert.throws(() => p.confirm(1), TransitionNotAllowed);
    });
  });
}

describe('a dynamic target and hooks', () => {
  test('before and onExit hooks see the source as target; onEnter, onSuccess, after see the computed value', () => {
    const { Payment, log } = paymentClass(true);
    for (let i = 0; i < 2; i++) {
      log.length = 0;
      new Payment().confirm(5000);
      assert.deepEqual(log, ['before target=paying', 'exit target=paying', 'body in review with 5000', 'enter review target=review', 'after target=review']);
    }
  });

  test('the function gets the arguments as the before hooks left them', () => {
    const { Payment } = paymentClass(true);
    const p = new Payment();
    assert.equal(p.confirm('big' as never), 'review');
  });

  test('a refused value still runs the onError and after hooks (as a before-hook failure does), with nothing written', () => {
    const { Payment, log } = paymentClass(true);
    log.length = 0;
    const p = new Payment();
    assert.throws(() => p.confirm(1, 'nowhere'), TypeError);
    assert.deepEqual(log, ['before target=paying', 'exit target=paying', 'error target=paying', 'after target=paying']);
    assert.deepEqual(p.writes, []);
  });
});

describe('dynamic targets, more cases', () => {
  test('a target function that throws: its error, nothing written', () => {
    const s = new State(['a', 'b', 'c'] as const, { default: 'a' });
    class Flow {
      @s.transition({ source: 'a', target: () => { throw new RangeError('no route'); }, targets: ['b', 'c'] }) go() {}
    }
    for (let i = 0; i < 2; i++) {
      const flow = new Flow();
      assert.throws(() => flow.go(), RangeError);
      assert.equal(s.get(flow), 'a');
    }
  });

  test('a target function returning a promise: a TypeError saying it must be synchronous', () => {
    const s = new State(['a', 'b'] as const, { default: 'a' });
    class Flow {
      @s.transition({ source: 'a', target: (() => Promise.resolve('b')) as never, targets: ['b'] }) go() {}
    }
    assert.throws(() => new Flow().go(), { name: 'TypeError', message: /returned a promise \(target functions must be synchronous\)/ });
  });

  test('an async method rejects a refused value', async () => {
    const s = new State(['a', 'b', 'c'] as const, { default: 'a' });
    class Flow {
      @s.transition({ source: 'a', target: (_f: Flow, to: 'b' | 'c') => to, targets: ['b'] }) async go(_to: 'b' | 'c') {}
    }
    const flow = new Flow();
    const call = flow.go('c');
    assert.ok(call instanceof Promise);
    await assert.rejects(call, TypeError);
    await flow.go('b');
    assert.equal(s.get(flow), 'b');
  });

  test('with two States on one method, a refused value on either changes neither', () => {
    const level = new State([0, 1, 2] as const, { default: 0 });
    const power = new State(['off', 'on', 'eco'] as const, { default: 'off' });
    class Device {
      mode: unknown = 'on';
      @level.transition({ source: 0, target: 1 })
      @power.transition({ source: 'off', target: (d: Device) => d.mode as 'on', targets: ['on', 'eco'] })
      boot() {}
    }
    for (let i = 0; i < 2; i++) {
      const d = new Device();
      d.mode = 'turbo';
      assert.throws(() => d.boot(), TypeError);
      assert.equal(level.get(d), 0);
      assert.equal(power.get(d), 'off');
      d.mode = 'eco';
      d.boot();
      assert.equal(level.get(d), 1);
      assert.equal(power.get(d), 'eco');
    }
  });

  test('waiters wake for the computed state; a store is told the computed target', async () => {
    const s = new State(['a', 'b', 'c'] as const, { default: 'a' });
    class Flow {
      @s.transition({ source: 'a', target: (_f: Flow, to: 'b' | 'c') => to, targets: ['b', 'c'] }) async go(_to: 'b' | 'c') {}
    }
    const units: UnitOfWork[] = [];
    const changes: unknown[] = [];
    const store: TransitionStore = {
      async run(unit, call) {
        units.push(unit);
        const result = await call();
        changes.push(...unit.changes.map((c) => [c.transition, c.source, c.target]));
        return result;
      },
    };
    persistWith(s, Flow, store);
    const flow = new Flow();
    const waited = s.waitFor(flow, 'c');
    await flow.go('c');
    assert.equal(await waited, 'c');
    assert.deepEqual(changes, [['go', 'a', 'c']]);
  });

  test('transitions() entries carry targets: the declared ones, [target], or [] without target', () => {
    const s = new State(['a', 'b', 'c'] as const, { default: 'a' });
    const route = (_f: unknown) => 'b' as const;
    class Flow {
      @s.transition({ source: 'a', target: route, targets: ['b', 'c'] }) go() {}
      @s.transition({ source: 'b', target: 'c' }) next() {}
      @s.transition({ source: 'c' }) look() {}
    }
    const byName = Object.fromEntries(s.transitions(Flow).map((t) => [t.name, t]));
    assert.equal(byName['go']!.target, route);
    assert.deepEqual(byName['go']!.targets, ['b', 'c']);
    assert.deepEqual(byName['next']!.targets, ['c']);
    assert.deepEqual(byName['look']!.targets, []);
    assert.ok(Object.isFrozen(byName['go']!.targets));
  });
});

describe('dynamic target definition errors: TypeError when the class is defined', () => {
  const s = new State(['a', 'b', 'c'] as const, { default: 'a', name: 'step' });
  const ordered = new State(['one', 'two', 'three'] as const, { ordered: true, name: 'rank' });
  const cases: [string, () => unknown, RegExp][] = [
    ['a target function without targets', () => { class F { @s.transition({ source: 'a', target: () => 'b' } as never) go() {} } return F; }, /@step\.transition\(\) on go\(\): a target function needs targets, the values it may return/],
    ['empty targets', () => { class F { @s.transition({ source: 'a', target: () => 'b', targets: [] }) go() {} } return F; }, /a target function needs targets/],
    ['an undeclared value in targets', () => { class F { @s.transition({ source: 'a', target: () => 'b', targets: ['b', 'z' as 'b'] }) go() {} } return F; }, /go\(\): targets value "z" is not a value of State\(step\) \(declared: "a", "b", "c"\)/],
    ['a value twice in targets', () => { class F { @s.transition({ source: 'a', target: () => 'b', targets: ['b', 'b'] }) go() {} } return F; }, /targets lists a value twice/],
    ['targets with a fixed target', () => { class F { @s.transition({ source: 'a', target: 'b', targets: ['b', 'c'] }) go() {} } return F; }, /targets goes with a target function/],
    ['an ordered State: a target before the source, without rewind', () => { class F { @ordered.transition({ source: 'two', target: () => 'three', targets: ['three', 'one'] }) go() {} } return F; }, /target "one" comes before source "two"; add rewind: true/],
  ];
  for (const [what, define, message] of cases) {
    test(what, () => assert.throws(define, (e: unknown) => e instanceof TypeError && message.test(e.message)));
  }

  test('with rewind, going back through a dynamic target is allowed', () => {
    class F {
      value: 'one' | 'two' | 'three' = 'two';
      @ordered.getter() g() { return this.value; }
      @ordered.setter() s(v: 'one' | 'two' | 'three') { this.value = v; }
      @ordered.transition({ source: 'two', target: () => 'one', targets: ['three', 'one'], rewind: true }) go() {}
    }
    const f = new F();
    f.go();
    assert.equal(ordered.get(f), 'one');
  });
});

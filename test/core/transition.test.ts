/**
 * Calling a transition (README, Transitions, steps 1–6): the source check, conditions, the state
 * set before the body, rollback (or `onError`) on a throw, no-target transitions, and what bad
 * accessors do. A spy host records every setter write.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State, TransitionNotAllowed } from 'transitional';
import { ReviewFlow, Stage, stage, thrown, trackedReview } from './fixtures.ts';

const phase = new State(['draft', 'open', 'closed', 'failed'] as const, { default: 'draft', name: 'phase' });
type Phase = (typeof phase.values)[number];

/** Where a `Doc` keeps its phase; records writes, and can be told to fail them. */
class Host {
  phase: Phase | undefined | null = undefined;
  readonly writes: Phase[] = [];
  failWrites: Error | undefined = undefined;
}

class Doc {
  readonly seen: Phase[] = [];
  readonly checked: string[] = [];
  title = '';
  constructor(readonly host: Host = new Host()) {}

  @phase.getter() readPhase() { return this.host.phase; }
  @phase.setter() writePhase(value: Phase) {
    if (this.host.failWrites) throw this.host.failWrites;
    this.host.writes.push(value);
    this.host.phase = value;
  }

  @phase.transition({ source: 'draft', target: 'open' })
  open(...args: unknown[]) {
    this.seen.push(phase.get(this));
    return { opened: args };
  }

  @phase.transition({
    source: 'open',
    target: 'closed',
    conditions: [
      (doc: Doc) => (doc.checked.push('first'), true),
      function hasTitle(doc: Doc) { doc.checked.push('hasTitle'); return doc.title !== '' ? true : { ok: false, reason: 'the title is empty' }; },
      (doc: Doc) => (doc.checked.push('third'), false),
    ],
  })
  close() {
    this.seen.push(phase.get(this));
  }

  @phase.transition({ source: 'open', target: 'closed', conditions: [(_doc: Doc, force: boolean) => force] })
  forceClose(force: boolean) {
    void force;
  }

  @phase.transition({ source: 'draft', target: 'open' })
  explode(error: unknown) {
    this.seen.push(phase.get(this));
    throw error;
  }

  @phase.transition({ source: 'open', target: 'closed', onError: 'failed' })
  risky(error?: unknown) {
    if (error !== undefined) throw error;
  }

  @phase.transition({ source: 'open' })
  touch(fail = false) {
    this.seen.push(phase.get(this));
    if (fail) throw new Error('touch failed');
    return 'touched';
  }

  @phase.transition({ source: 'open', conditions: [(doc: Doc) => doc.title !== ''] })
  rename() {}

  @phase.transition({ source: 'draft', target: 'open', conditions: [() => { throw new RangeError('condition broke'); }] })
  brittle() {}
}

/** The same flow with a do-nothing hook: its calls take the runtime's general path instead of the fast one. */
class HookedDoc extends Doc {
  @phase.after() noop() {}
}

/**
 * Every behaviour below must hold on both of the runtime's paths: the inlined fast path (no hooks)
 * and the general one (hooks present), so the suite runs once per path.
 */
for (const Flow of [Doc, HookedDoc]) {
  const docIn = (value: Phase | undefined): Doc => {
    const doc = new Flow();
    doc.host.phase = value;
    return doc;
  };

  describe(`${Flow.name}: ${Flow === Doc ? 'the fast path' : 'the general path'}`, () => {
    describe('a successful call', () => {
      test('sets the target through the setter before the body runs', () => {
        const doc = docIn('draft');
        doc.open();
        assert.deepEqual(doc.seen, ['open']);
        assert.deepEqual(doc.host.writes, ['open']);
        assert.equal(phase.get(doc), 'open');
      });

      test('passes the arguments to the body and returns what the body returned', () => {
        const doc = docIn('draft');
        assert.deepEqual(doc.open(1, 'two'), { opened: [1, 'two'] });
      });

      test('runs the body with the flow as `this`', () => {
        const doc = docIn('draft');
        const { open } = doc;
        open.call(doc);
        assert.equal(phase.get(doc), 'open');
      });

      test('a getter returning undefined or null means the default', () => {
        for (const empty of [undefined, null]) {
          const doc = docIn(undefined);
          doc.host.phase = empty;
          assert.equal(phase.get(doc), 'draft');
          doc.open();
          assert.equal(phase.get(doc), 'open');
        }
      });
    });

    describe('step 1: the source check', () => {
      test('a call from a state the transition does not start from throws TransitionNotAllowed', () => {
        const doc = docIn('closed');
        const e = thrown(() => doc.open());
        assert.ok(e instanceof TransitionNotAllowed);
        assert.ok(e instanceof Error);
        assert.equal(e.name, 'TransitionNotAllowed');
        assert.equal(e.transition, 'open');
        assert.equal(e.state, 'closed');
        assert.equal(e.reason, 'source');
      });

      test('the message names the class, the transition and the current state', () => {
        const e = thrown(() => docIn('closed').open()) as Error;
        assert.match(e.message, /Doc/);
        assert.match(e.message, /open/);
        assert.match(e.message, /"closed"/);
      });

      test('nothing changes and the body does not run', () => {
        const doc = docIn('closed');
        assert.throws(() => doc.open(), TransitionNotAllowed);
        assert.deepEqual(doc.host.writes, []);
        assert.deepEqual(doc.seen, []);
        assert.equal(phase.get(doc), 'closed');
      });

      test('the reported state is the default when the getter gave nothing', () => {
        const e = thrown(() => docIn(undefined).close());
        assert.ok(e instanceof TransitionNotAllowed);
        assert.equal(e.state, 'draft');
      });

      test('the contract example: publish from New is refused for its source', () => {
        const review = trackedReview(Stage.New, 'ann');
        const e = thrown(() => new ReviewFlow(review).publish());
        assert.ok(e instanceof TransitionNotAllowed);
        assert.equal(e.reason, 'source');
        assert.equal(e.state, Stage.New);
        assert.match(e.message, /ReviewFlow/);
        assert.match(e.message, /publish/);
        assert.deepEqual(review.writes, []);
      });
    });

    describe('step 2: conditions', () => {
      test('run in order; the first failing one refuses the call and stops the rest', () => {
        const doc = docIn('open');
        const e = thrown(() => doc.close());
        assert.ok(e instanceof TransitionNotAllowed);
        assert.deepEqual(doc.checked, ['first', 'hasTitle']);
        assert.equal(e.reason, 'condition');
        assert.equal(e.transition, 'close');
        assert.equal(e.state, 'open');
      });

      test('the message names the transition, the state, the failed condition and its reason', () => {
        const e = thrown(() => docIn('open').close()) as Error;
        assert.match(e.message, /Doc/);
        assert.match(e.message, /close/);
        assert.match(e.message, /"open"/);
        assert.match(e.message, /hasTitle|#2/);
        assert.match(e.message, /the title is empty/);
      });

      test('a plain `false` refuses too and the message says which condition', () => {
        const doc = docIn('open');
        doc.title = 'Hello';
        const e = thrown(() => doc.close());
        assert.ok(e instanceof TransitionNotAllowed);
        assert.equal(e.reason, 'condition');
        assert.deepEqual(doc.checked, ['first', 'hasTitle', 'third']);
        assert.match(e.message, /#3/);
      });

      test('nothing changes on refusal and the body does not run', () => {
        const doc = docIn('open');
        assert.throws(() => doc.close(), TransitionNotAllowed);
        assert.deepEqual(doc.host.writes, []);
        assert.deepEqual(doc.seen, []);
        assert.equal(phase.get(doc), 'open');
      });

      test('conditions receive the flow and the call arguments', () => {
        const doc = docIn('open');
        assert.throws(() => doc.forceClose(false), TransitionNotAllowed);
        assert.equal(phase.get(doc), 'open');
        doc.forceClose(true);
        assert.equal(phase.get(doc), 'closed');
      });

      test('{ ok: true } passes', () => {
        class Gate {
          @phase.transition({ source: 'draft', target: 'open', conditions: [() => ({ ok: true })] })
          go() {}
        }
        const gate = new Gate();
        gate.go();
        assert.equal(phase.get(gate), 'open');
      });

      test('a condition that throws: its error propagates and nothing changes', () => {
        const doc = docIn('draft');
        assert.throws(() => doc.brittle(), RangeError);
        assert.deepEqual(doc.host.writes, []);
      });

      test('the source is checked before any condition runs', () => {
        const doc = docIn('draft');
        const e = thrown(() => doc.close());
        assert.ok(e instanceof TransitionNotAllowed);
        assert.equal(e.reason, 'source');
        assert.deepEqual(doc.checked, []);
      });

      test('the contract example: publish without an approver is refused by its condition', () => {
        const review = trackedReview(Stage.Review);
        const flow = new ReviewFlow(review);
        const e = thrown(() => flow.publish());
        assert.ok(e instanceof TransitionNotAllowed);
        assert.equal(e.reason, 'condition');
        assert.equal(e.state, Stage.Review);
        assert.deepEqual(review.writes, []);
        review.approver = 'ann';
        flow.publish();
        assert.equal(stage.get(flow), Stage.Published);
      });
    });

    describe('step 5: a body that throws', () => {
      test('writes the source back and rethrows the same error', () => {
        const doc = docIn('draft');
        const error = new Error('boom');
        assert.throws(() => doc.explode(error), (e) => e === error);
        assert.deepEqual(doc.seen, ['open']);
        assert.deepEqual(doc.host.writes, ['open', 'draft']);
        assert.equal(phase.get(doc), 'draft');
      });

      test('rethrows non-Error values unchanged too', () => {
        const doc = docIn('draft');
        assert.throws(() => doc.explode('a string'), (e) => e === 'a string');
        assert.equal(phase.get(doc), 'draft');
      });

      test('writes back the value the getter read, also when that was the default', () => {
        const doc = docIn(undefined);
        assert.throws(() => doc.explode(new Error('boom')));
        assert.deepEqual(doc.host.writes, ['open', 'draft']);
      });

      test('with onError, the state moves to that value instead, and the same error is rethrown', () => {
        const doc = docIn('open');
        const error = new Error('boom');
        assert.throws(() => doc.risky(error), (e) => e === error);
        assert.deepEqual(doc.host.writes, ['closed', 'failed']);
        assert.equal(phase.get(doc), 'failed');
      });

      test('with onError, a body that succeeds stays at the target', () => {
        const doc = docIn('open');
        doc.risky();
        assert.equal(phase.get(doc), 'closed');
      });

      test('the flow can run the transition again after a rollback', () => {
        const doc = docIn('draft');
        assert.throws(() => doc.explode(new Error('once')));
        doc.open();
        assert.equal(phase.get(doc), 'open');
      });

      test('a setter that also fails on the rollback write does not hide the body\'s error', () => {
        const doc = docIn('draft');
        const error = new Error('body failed');
        let writes = 0;
        doc.writePhase = function (this: Doc, value: Phase) {
          if (++writes === 2) throw new Error('rollback write failed');
          Doc.prototype.writePhase.call(this, value);
        };
        assert.throws(() => doc.explode(error), (e) => e === error);
      });
    });

    describe('a transition without target', () => {
      test('runs the body and keeps the state: no setter write', () => {
        const doc = docIn('open');
        assert.equal(doc.touch(), 'touched');
        assert.deepEqual(doc.seen, ['open']);
        assert.deepEqual(doc.host.writes, []);
        assert.equal(phase.get(doc), 'open');
      });

      test('still checks its source', () => {
        const e = thrown(() => docIn('draft').touch());
        assert.ok(e instanceof TransitionNotAllowed);
        assert.equal(e.reason, 'source');
        assert.equal(e.transition, 'touch');
      });

      test('still checks its conditions', () => {
        const doc = docIn('open');
        const e = thrown(() => doc.rename());
        assert.ok(e instanceof TransitionNotAllowed);
        assert.equal(e.reason, 'condition');
        doc.title = 'ok';
        doc.rename();
        assert.equal(phase.get(doc), 'open');
      });

      test('a throwing body writes nothing and rethrows', () => {
        const doc = docIn('open');
        assert.throws(() => doc.touch(true), /touch failed/);
        assert.deepEqual(doc.host.writes, []);
        assert.equal(phase.get(doc), 'open');
      });
    });

    describe('bad accessors', () => {
      test('a setter that throws: its error propagates, the body does not run, the state is what the getter reads', () => {
        const doc = docIn('draft');
        const error = new Error('disk full');
        doc.host.failWrites = error;
        assert.throws(() => doc.open(), (e) => e === error);
        assert.deepEqual(doc.seen, []);
        assert.equal(phase.get(doc), 'draft');
        doc.host.failWrites = undefined;
        doc.open();
        assert.equal(phase.get(doc), 'open');
      });

      test('a getter that throws: its error propagates and nothing is written', () => {
        const doc = docIn('draft');
        const error = new Error('cannot read');
        doc.readPhase = () => { throw error; };
        assert.throws(() => doc.open(), (e) => e === error);
        assert.deepEqual(doc.host.writes, []);
        assert.deepEqual(doc.seen, []);
      });

      test('a getter returning an undeclared value makes the call throw a TypeError naming it; nothing changes', () => {
        const doc = docIn('archived' as never);
        assert.throws(() => doc.open(), (e: unknown) => e instanceof TypeError && /"archived"/.test(e.message));
        assert.deepEqual(doc.host.writes, []);
        assert.deepEqual(doc.seen, []);
      });

      test('the TypeError also comes from State#get', () => {
        const doc = docIn('archived' as never);
        assert.throws(() => phase.get(doc), (e: unknown) => e instanceof TypeError && /"archived"/.test(e.message));
      });

      test('an undeclared value is a TypeError even for a State.ANY transition', () => {
        class Bin {
          constructor(public value: unknown) {}
          @phase.getter() g() { return this.value as Phase; }
          @phase.setter() s(v: Phase) { this.value = v; }
          @phase.transition({ source: State.ANY, target: 'closed' }) trash() {}
        }
        const bin = new Bin('lost');
        assert.throws(() => bin.trash(), (e: unknown) => e instanceof TypeError && /"lost"/.test(e.message));
        assert.equal(bin.value, 'lost');
      });

      test('a value of the wrong type is undeclared too: "1" is not 1', () => {
        const n = new State([0, 1] as const);
        class Counter {
          constructor(public value: unknown) {}
          @n.getter() g() { return this.value as 0 | 1; }
          @n.setter() s(v: 0 | 1) { this.value = v; }
          @n.transition({ source: 1, target: 0 }) reset() {}
        }
        assert.throws(() => new Counter('1').reset(), (e: unknown) => e instanceof TypeError && /"1"/.test(e.message));
      });
    });
  });
}

enum Level { Zero, One, Two }
const stageOfLevel = new State(Level, { default: Level.Two });

describe('numbers are states', () => {
  class Meter {
    constructor(public level: Level | undefined) {}
    @stageOfLevel.getter() g() { return this.level; }
    @stageOfLevel.setter() s(v: Level) { this.level = v; }
    @stageOfLevel.transition({ source: Level.Zero, target: Level.One }) up() {}
    @stageOfLevel.transition({ source: Level.One, target: Level.Zero }) down() {}
    @stageOfLevel.transition({ source: Level.Two, target: Level.Zero }) drop(fail = false) { if (fail) throw new Error('no'); }
  }

  test('0 read by the getter is state 0, not "unset" (the default is another value)', () => {
    const meter = new Meter(Level.Zero);
    assert.equal(stageOfLevel.get(meter), Level.Zero);
    meter.up();
    assert.equal(meter.level, Level.One);
  });

  test('0 is written as a target and as a rollback value', () => {
    const meter = new Meter(Level.One);
    meter.down();
    assert.equal(meter.level, 0);
    const high = new Meter(Level.Two);
    high.drop();
    assert.equal(high.level, 0);
  });

  test('undefined still means the default', () => {
    const meter = new Meter(undefined);
    assert.equal(stageOfLevel.get(meter), Level.Two);
    assert.throws(() => meter.drop(true), /no/);
    assert.equal(meter.level, Level.Two);
  });
});

describe('State.ANY', () => {
  test('matches every declared state, the target itself included', () => {
    for (const from of stage.values) {
      const review = trackedReview(from);
      new ReviewFlow(review).remove();
      assert.equal(review.stage, Stage.Removed);
      assert.deepEqual(review.writes, [Stage.Removed]);
    }
  });

  test('matches the default when the getter gives nothing', () => {
    const review = trackedReview(undefined);
    new ReviewFlow(review).remove();
    assert.equal(review.stage, Stage.Removed);
  });
});

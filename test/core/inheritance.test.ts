/**
 * Inheritance (README, Inheritance): inherited transitions, redeclaring a transition in a subclass,
 * `@s.inherit()`, `superTransition(Parent, this)`, and abstract bases whose subclasses provide
 * the accessors.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State, superTransition, TransitionNotAllowed } from 'transitional';
import { GuestReviewFlow, ReviewFlow, Stage, stage, thrown, trackedReview } from './fixtures.ts';

describe('a subclass inherits its parent\'s transitions', () => {
  class PlainSub extends ReviewFlow {
    extra = 1;
  }

  test('and runs them through the inherited accessors', () => {
    const review = trackedReview(Stage.New);
    const flow = new PlainSub(review);
    flow.submit();
    review.approver = 'ann';
    flow.publish();
    assert.deepEqual(review.writes, [Stage.Review, Stage.Published]);
    assert.throws(() => flow.submit(), TransitionNotAllowed);
  });

  test('transitions() of the subclass lists the parent\'s', () => {
    assert.deepEqual(
      stage.transitions(PlainSub).map((d) => d.name),
      stage.transitions(ReviewFlow).map((d) => d.name),
    );
  });

  test('a subclass adding its own transition keeps the parent\'s too', () => {
    class Hideable extends ReviewFlow {
      @stage.transition({ source: Stage.Published, target: Stage.Hidden }) hide() {}
    }
    const review = trackedReview(Stage.New);
    const flow = new Hideable(review);
    flow.fastTrack();
    flow.hide();
    assert.equal(review.stage, Stage.Hidden);
    assert.deepEqual(stage.transitions(Hideable).map((d) => d.name), ['submit', 'publish', 'fastTrack', 'remove', 'hide']);
    assert.equal(stage.transitions(ReviewFlow).some((d) => d.name === 'hide'), false);
  });

  test('three levels deep', () => {
    class Middle extends ReviewFlow {}
    class Leaf extends Middle {
      @stage.inherit()
      override submit() {
        superTransition(Middle, this).submit();
      }
    }
    const review = trackedReview(Stage.New);
    new Leaf(review).submit();
    assert.deepEqual(review.writes, [Stage.Review]);
  });
});

describe('redeclaring @s.transition on an overriding method', () => {
  class StrictReviewFlow extends ReviewFlow {
    @stage.transition({ source: Stage.Review, target: Stage.Hidden, label: 'Quietly publish' })
    override fastTrack() {
      superTransition(ReviewFlow, this).fastTrack();
    }
  }

  test('replaces the parent\'s table for that method entirely', () => {
    const fromNew = new StrictReviewFlow(trackedReview(Stage.New));
    const e = thrown(() => fromNew.fastTrack());
    assert.ok(e instanceof TransitionNotAllowed);
    assert.equal(e.reason, 'source');
    assert.equal(stage.get(fromNew), Stage.New);

    const review = trackedReview(Stage.Review);
    new StrictReviewFlow(review).fastTrack();
    assert.deepEqual(review.writes, [Stage.Hidden]);
  });

  test('superTransition still reaches the parent\'s body, without a second state change', () => {
    const review = trackedReview(Stage.Review);
    new StrictReviewFlow(review).fastTrack();
    assert.equal(review.approver, 'system');
    assert.deepEqual(review.writes, [Stage.Hidden]);
  });

  test('introspection shows the new definition only', () => {
    const defs = stage.transitions(StrictReviewFlow).filter((d) => d.name === 'fastTrack');
    assert.equal(defs.length, 1);
    assert.deepEqual(defs[0]!.source, [Stage.Review]);
    assert.equal(defs[0]!.target, Stage.Hidden);
    assert.equal(defs[0]!.label, 'Quietly publish');
  });

  test('the parent class is unaffected', () => {
    const review = trackedReview(Stage.New);
    new ReviewFlow(review).fastTrack();
    assert.deepEqual(review.writes, [Stage.Published]);
    const defs = stage.transitions(ReviewFlow).filter((d) => d.name === 'fastTrack');
    assert.deepEqual(defs[0]!.source, [Stage.New, Stage.Review]);
  });

  test('a redeclared table may stack several transitions', () => {
    class Bouncy extends ReviewFlow {
      @stage.transition({ source: Stage.Published, target: Stage.Hidden })
      @stage.transition({ source: Stage.Hidden, target: Stage.Published })
      override publish() {}
    }
    const review = trackedReview(Stage.Published);
    const flow = new Bouncy(review);
    flow.publish();
    flow.publish();
    assert.deepEqual(review.writes, [Stage.Hidden, Stage.Published]);
    assert.throws(() => new Bouncy(trackedReview(Stage.Review, 'ann')).publish(), TransitionNotAllowed);
  });
});

describe('@s.inherit()', () => {
  test('the contract example: GuestReviewFlow keeps fastTrack\'s definition with a new body', () => {
    const review = trackedReview(Stage.Review);
    new GuestReviewFlow(review).fastTrack();
    assert.equal(review.stage, Stage.Published);
    assert.equal(review.approver, 'guest-system');
  });

  test('superTransition runs the parent\'s undecorated body: the setter is written once', () => {
    const review = trackedReview(Stage.New);
    new GuestReviewFlow(review).fastTrack();
    assert.deepEqual(review.writes, [Stage.Published]);
  });

  test('the inherited sources still apply', () => {
    const review = trackedReview(Stage.Published);
    const e = thrown(() => new GuestReviewFlow(review).fastTrack());
    assert.ok(e instanceof TransitionNotAllowed);
    assert.equal(e.transition, 'fastTrack');
    assert.equal(e.state, Stage.Published);
    assert.match((e as Error).message, /GuestReviewFlow/);
    assert.deepEqual(review.writes, []);
  });

  test('the definition reported for the subclass equals the parent\'s', () => {
    const parent = stage.transitions(ReviewFlow).find((d) => d.name === 'fastTrack')!;
    const child = stage.transitions(GuestReviewFlow).find((d) => d.name === 'fastTrack')!;
    assert.deepEqual(
      { ...child, conditions: child.conditions.length },
      { ...parent, conditions: parent.conditions.length },
    );
  });

  test('inherited conditions still apply', () => {
    class AuditedFlow extends ReviewFlow {
      audited = 0;
      @stage.inherit()
      override publish() {
        this.audited++;
        superTransition(ReviewFlow, this).publish();
      }
    }
    const review = trackedReview(Stage.Review);
    const flow = new AuditedFlow(review);
    const e = thrown(() => flow.publish());
    assert.ok(e instanceof TransitionNotAllowed);
    assert.equal(e.reason, 'condition');
    assert.equal(flow.audited, 0);
    review.approver = 'ann';
    flow.publish();
    assert.equal(flow.audited, 1);
    assert.deepEqual(review.writes, [Stage.Published]);
  });

  test('a throwing body in the subclass rolls back to the source', () => {
    class Unlucky extends ReviewFlow {
      @stage.inherit()
      override fastTrack() {
        superTransition(ReviewFlow, this).fastTrack();
        throw new Error('unlucky');
      }
    }
    const review = trackedReview(Stage.Review);
    assert.throws(() => new Unlucky(review).fastTrack(), /unlucky/);
    assert.equal(review.stage, Stage.Review);
    assert.deepEqual(review.writes, [Stage.Published, Stage.Review]);
  });

  test('with nothing to inherit: TypeError at class definition, naming the method', () => {
    assert.throws(
      () => {
        class Orphan extends ReviewFlow {
          @stage.inherit()
          archive() {}
        }
        return Orphan;
      },
      (e: unknown) => e instanceof TypeError && /archive/.test(e.message),
    );
  });

  test('on a class without a parent: TypeError at class definition', () => {
    assert.throws(() => {
      class Root {
        @stage.inherit()
        submit() {}
      }
      return Root;
    }, TypeError);
  });

  test('when the parent method is not a transition of that State: TypeError', () => {
    const other = new State(['x', 'y'] as const);
    assert.throws(() => {
      class Sub extends ReviewFlow {
        @other.inherit()
        override submit() {}
      }
      return Sub;
    }, TypeError);
  });
});

describe('superTransition', () => {
  test('does not run the parent\'s transition wrapper, so it works from the new state', () => {
    class Chained extends ReviewFlow {
      @stage.inherit()
      override submit() {
        assert.equal(stage.get(this), Stage.Review);
        superTransition(ReviewFlow, this).submit();
      }
    }
    const review = trackedReview(Stage.New);
    new Chained(review).submit();
    assert.deepEqual(review.writes, [Stage.Review]);
  });

  test('gives the parent body the flow as `this` and returns its value', () => {
    const flag = new State(['a', 'b'] as const, { default: 'a' });
    class Base {
      seen: unknown;
      @flag.transition({ source: 'a', target: 'b' })
      go(n: number) {
        this.seen = this;
        return n * 2;
      }
    }
    class Sub extends Base {
      @flag.inherit()
      override go(n: number) {
        return superTransition(Base, this).go(n) + 1;
      }
    }
    const sub = new Sub();
    assert.equal(sub.go(5), 11);
    assert.equal(sub.seen, sub);
    assert.equal(flag.get(sub), 'b');
  });

  test('with a flow that is not an instance of the class: TypeError', () => {
    assert.throws(() => superTransition(GuestReviewFlow, new ReviewFlow({})), TypeError);
  });
});

describe('an abstract base with transitions, subclasses with accessors', () => {
  const status = new State(['idle', 'busy', 'done'] as const, { default: 'idle', name: 'status' });
  type Status = (typeof status.values)[number];

  abstract class Task {
    abstract kind(): string;
    @status.transition({ source: 'idle', target: 'busy' }) begin() { return this.kind(); }
    @status.transition({ source: 'busy', target: 'done' }) end(fail = false) { if (fail) throw new Error('failed'); }
  }

  class RowTask extends Task {
    constructor(readonly row: { status: Status | null; writes: Status[] }) { super(); }
    kind() { return 'row'; }
    @status.getter() read() { return this.row.status; }
    @status.setter() write(v: Status) { this.row.writes.push(v); this.row.status = v; }
  }

  class MemoryTask extends Task {
    kind() { return 'memory'; }
  }

  test('the subclass\'s getter and setter carry the state', () => {
    const row = { status: null, writes: [] as Status[] };
    const task = new RowTask(row);
    assert.equal(task.begin(), 'row');
    assert.throws(() => task.end(true), /failed/);
    task.end();
    assert.deepEqual(row.writes, ['busy', 'done', 'busy', 'done']);
    assert.equal(status.get(task), 'done');
  });

  test('a sibling without accessors keeps the state in the private slot; both may alternate', () => {
    const row = { status: null, writes: [] as Status[] };
    const a = new RowTask(row);
    const b = new MemoryTask();
    a.begin();
    assert.equal(b.begin(), 'memory');
    assert.equal(status.get(b), 'busy');
    a.end();
    b.end();
    assert.equal(row.status, 'done');
    assert.equal(status.get(b), 'done');
    assert.deepEqual(row.writes, ['busy', 'done']);
  });

  test('transitions() of each subclass lists the base\'s transitions', () => {
    assert.deepEqual(status.transitions(RowTask).map((d) => d.name), ['begin', 'end']);
    assert.deepEqual(status.transitions(MemoryTask).map((d) => d.name), ['begin', 'end']);
  });

  test('a subclass may declare its own accessors, moving the state to another field', () => {
    class ShadowTask extends RowTask {
      readonly shadow = { status: 'done' as Status };
      @status.getter() readShadow() { return this.shadow.status; }
      @status.setter() writeShadow(v: Status) { this.shadow.status = v; }
    }
    const row = { status: null, writes: [] as Status[] };
    const task = new ShadowTask(row);
    assert.equal(status.get(task), 'done');
    task.shadow.status = 'idle';
    task.begin();
    assert.equal(task.shadow.status, 'busy');
    assert.deepEqual(row.writes, []);
  });
});

/**
 * The behaviour both decorator modes must share. `describeBehaviour` is called once per build of
 * fixtures/flows.ts: by standard.test.ts (standard decorators) and by test/legacy/behaviour.legacy.ts
 * (experimentalDecorators, run in a child process by legacy.test.ts).
 */

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State, TransitionNotAllowed, actingAs, type NotAllowedReason } from 'transitional';
import type * as Flows from './fixtures/flows.ts';

export type FlowsModule = typeof Flows;

/** Asserts that `fn` throws a `TransitionNotAllowed` with these fields. */
function assertNotAllowed(fn: () => unknown, expected: { transition: string; state: string | number; reason: NotAllowedReason }, fragments: readonly string[] = []): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TransitionNotAllowed, `expected TransitionNotAllowed, got ${String(error)}`);
    assert.equal(error.transition, expected.transition);
    assert.equal(error.state, expected.state);
    assert.equal(error.reason, expected.reason);
    for (const f of [expected.transition, ...fragments]) assert.ok(error.message.includes(f), `message ${JSON.stringify(error.message)} should mention ${JSON.stringify(f)}`);
    return true;
  });
}

export function describeBehaviour(mode: 'standard' | 'legacy', flows: FlowsModule): void {
  const { Stage, stage, ReviewFlow, GuestReviewFlow, HookedFlow, SlotFlow, level, power } = flows;

  describe(`flows compiled with ${mode} decorators`, () => {
    test(`the fixture really was compiled with ${mode} decorators`, () => {
      assert.equal(flows.decoratorMode, mode);
    });

    describe('getter and setter', () => {
      test('the state changes through the setter before the body runs', () => {
        const flow = new ReviewFlow({});
        assert.equal(stage.get(flow), Stage.New, 'default when the getter gives undefined');
        assert.equal(flow.submit(), Stage.Review);
        assert.equal(flow.review.stage, Stage.Review);
        assert.deepEqual(flow.writes, [Stage.Review]);
      });

      test('a getter value that is not declared makes the call throw a TypeError naming it', () => {
        const flow = new ReviewFlow({ stage: 'draft' });
        assert.throws(() => flow.submit(), (e: unknown) => e instanceof TypeError && e.message.includes('"draft"'));
        assert.deepEqual(flow.writes, []);
      });
    });

    describe('sources, conditions and targets', () => {
      test('a call from a state the transition does not start from is refused and changes nothing', () => {
        const flow = new ReviewFlow({ stage: Stage.Published });
        assertNotAllowed(() => flow.submit(), { transition: 'submit', state: Stage.Published, reason: 'source' }, ['"published"']);
        assert.equal(flow.review.stage, Stage.Published);
        assert.deepEqual(flow.writes, []);
      });

      test('a failing condition refuses the call with its reason; once met, the call goes through', () => {
        const flow = new ReviewFlow({ stage: Stage.Review });
        assert.equal(stage.can(flow, 'publish'), false);
        assertNotAllowed(() => flow.publish(), { transition: 'publish', state: Stage.Review, reason: 'condition' }, ['an approver is required']);
        assert.deepEqual(flow.writes, []);
        flow.review.approver = 'ann';
        assert.equal(stage.can(flow, 'publish'), true);
        flow.publish();
        assert.equal(flow.review.stage, Stage.Published);
      });

      test('a source array accepts each of its values', () => {
        for (const from of [Stage.New, Stage.Review]) {
          const flow = new ReviewFlow({ stage: from });
          flow.fastTrack();
          assert.equal(flow.review.stage, Stage.Published);
          assert.equal(flow.review.approver, 'system');
        }
      });

      test('stacked transitions toggle between two states and refuse other sources', () => {
        const flow = new ReviewFlow({ stage: Stage.Published });
        flow.toggle();
        assert.equal(flow.review.stage, Stage.Hidden);
        flow.toggle();
        assert.equal(flow.review.stage, Stage.Published);
        assert.deepEqual(flow.writes, [Stage.Hidden, Stage.Published]);
        assertNotAllowed(() => new ReviewFlow({}).toggle(), { transition: 'toggle', state: Stage.New, reason: 'source' });
      });

      test('State.ANY starts from every state, the target included', () => {
        for (const from of Object.values(Stage)) {
          const flow = new ReviewFlow({ stage: from });
          flow.remove();
          assert.equal(flow.review.stage, Stage.Removed);
        }
      });

      test('a transition without target runs its body and keeps the state', () => {
        const flow = new ReviewFlow({ stage: Stage.Review });
        assert.equal(flow.comment('looks good'), 'LOOKS GOOD');
        assert.equal(flow.review.stage, Stage.Review);
        assertNotAllowed(() => new ReviewFlow({}).comment('x'), { transition: 'comment', state: Stage.New, reason: 'source' });
      });
    });

    describe('rollback', () => {
      test('a body that throws: the source is written back and the error is rethrown unchanged', () => {
        const flow = new ReviewFlow({ stage: Stage.Review });
        assert.throws(() => flow.publishBroken(), { message: 'publishing failed' });
        assert.equal(flow.review.stage, Stage.Review);
        assert.deepEqual(flow.writes, [Stage.Published, Stage.Review]);
      });

      test('onError moves to its value instead of back to the source', () => {
        const failing = new ReviewFlow({ stage: Stage.Review });
        assert.throws(() => failing.publishOrHide(true), { message: 'could not publish' });
        assert.equal(failing.review.stage, Stage.Hidden);
        const passing = new ReviewFlow({ stage: Stage.Review });
        assert.equal(passing.publishOrHide(false), 'published');
        assert.equal(passing.review.stage, Stage.Published);
      });

      test('a body may chain the next transition; a later throw undoes the whole chain', () => {
        const flow = new ReviewFlow({});
        flow.submitAndPublish();
        assert.equal(flow.review.stage, Stage.Published);
        assert.deepEqual(flow.writes, [Stage.Review, Stage.Published]);

        const undone = new ReviewFlow({});
        assert.throws(() => undone.submitAndPublish(true), { message: 'undo the chain' });
        assert.equal(stage.get(undone), Stage.New);
      });
    });

    describe('introspection', () => {
      test('transitions() lists every transition with its label, sources and target', () => {
        const defs = stage.transitions(ReviewFlow);
        const byName = (name: string) => defs.filter((d) => d.name === name);
        assert.equal(byName('submit')[0]?.label, 'Send to review');
        assert.equal(byName('fastTrack')[0]?.label, 'Fast track');
        assert.deepEqual(byName('fastTrack')[0]?.source, [Stage.New, Stage.Review]);
        assert.equal(byName('remove')[0]?.source, State.ANY);
        assert.equal(byName('comment')[0]?.target, undefined);
        assert.equal(byName('publishOrHide')[0]?.onError, Stage.Hidden);
        assert.equal(byName('publish')[0]?.conditions.length, 1);
        const toggles = byName('toggle').map((d) => `${String(d.source)}->${d.target}`);
        assert.deepEqual(toggles.sort(), ['hidden->published', 'published->hidden']);
      });

      test('available() lists what can run now', () => {
        const names = stage.available(new ReviewFlow({ stage: Stage.Review })).map((d) => d.name).sort();
        assert.deepEqual(names, ['comment', 'fastTrack', 'publishBroken', 'publishOrHide', 'remove']);
      });
    });

    describe('inheritance', () => {
      test('inherit() keeps the parent definition; superTransition runs the parent body without a second state change', () => {
        const flow = new GuestReviewFlow({});
        flow.fastTrack();
        assert.equal(flow.review.stage, Stage.Published);
        assert.equal(flow.review.approver, 'guest-system');
        assert.deepEqual(flow.writes, [Stage.Published]);
        const mine = stage.transitions(GuestReviewFlow).filter((d) => d.name === 'fastTrack');
        const parents = stage.transitions(ReviewFlow).filter((d) => d.name === 'fastTrack');
        assert.deepEqual(mine.map((d) => [d.source, d.target, d.label]), parents.map((d) => [d.source, d.target, d.label]));
      });

      test("a redeclared transition replaces the parent's table; the parent keeps its own", () => {
        const guest = new GuestReviewFlow({});
        assert.equal(guest.submit(), Stage.Hidden, 'the parent body ran once, in the state the subclass set');
        assert.deepEqual(guest.writes, [Stage.Hidden]);
        assert.deepEqual(
          stage.transitions(GuestReviewFlow).filter((d) => d.name === 'submit').map((d) => [d.source, d.target]),
          [[[Stage.New], Stage.Hidden]],
        );
        const parent = new ReviewFlow({});
        assert.equal(parent.submit(), Stage.Review);
      });
    });

    describe('hooks', () => {
      test('before, onSuccess and after run in order around the body; before may enrich the arguments', () => {
        const flow = new HookedFlow({});
        assert.equal(flow.submit('note'), 'submitted note+enriched');
        assert.deepEqual(flow.events, [
          'before submit new->review in new',
          'body note+enriched in review',
          'success submit result=submitted note+enriched in review',
          'after submit in review',
        ]);
      });

      test('onError runs after the rollback, after runs anyway, and the error is rethrown', () => {
        const flow = new HookedFlow({ stage: Stage.Review });
        assert.throws(() => flow.publish(), { message: 'cannot publish' });
        assert.equal(flow.review.stage, Stage.Review);
        assert.deepEqual(flow.events, [
          'before publish review->published in review',
          'error publish cannot publish in review',
          'after publish in review',
        ]);
      });

      test('a before hook that throws aborts the call with nothing changed', () => {
        const flow = new HookedFlow({ stage: Stage.Review });
        assert.throws(() => flow.hide(), { message: 'hiding is vetoed' });
        assert.equal(flow.review.stage, Stage.Review);
        assert.ok(!flow.events.includes('body hide'));
      });
    });

    describe('the private slot and several States', () => {
      test('without accessors the value lives on the flow; 0 is a state, not "unset"', () => {
        const flow = new SlotFlow();
        assert.equal(level.get(flow), 0);
        flow.up();
        assert.equal(level.get(flow), 1);
        flow.up();
        assert.equal(level.get(flow), 2);
        assertNotAllowed(() => flow.up(), { transition: 'up', state: 2, reason: 'source' });
        assert.equal(level.get(new SlotFlow()), 0, 'each flow has its own slot');
      });

      test('one method carrying transitions of two States changes both before the body, and rolls both back', () => {
        const flow = new SlotFlow();
        assert.deepEqual(flow.boot(), [1, 'on']);
        flow.shutDown();
        assert.equal(power.get(flow), 'off');

        const failing = new SlotFlow();
        assert.throws(() => failing.boot(true), { message: 'boot failed' });
        assert.equal(level.get(failing), 0);
        assert.equal(power.get(failing), 'off');
      });
    });

    describe('calls that users rely on', () => {
      test('an async method rejects a refusal; a sync one throws it (cold and warm)', async () => {
        const { ApprovalFlow } = flows;
        for (let i = 0; i < 2; i++) {
          await new ApprovalFlow({}).submitAsync();
          new ApprovalFlow({}).submitSync();
          const done = new ApprovalFlow({ stage: Stage.Published });
          await assert.rejects(done.submitAsync(), (e: unknown) => e instanceof TransitionNotAllowed && e.reason === 'source');
          assertNotAllowed(() => done.submitSync(), { transition: 'submitSync', state: Stage.Published, reason: 'source' });
        }
      });

      test('inside actingAs a refusing permission fails with reason "permission"; outside it is not enforced', () => {
        const { ApprovalFlow } = flows;
        for (let i = 0; i < 2; i++) {
          const flow = new ApprovalFlow({ stage: Stage.Review });
          assertNotAllowed(() => actingAs('guest', () => flow.publish()), { transition: 'publish', state: Stage.Review, reason: 'permission' }, ['permission']);
          assert.equal(flow.review.stage, Stage.Review);
          actingAs('editor', () => flow.publish());
          assert.equal(flow.review.stage, Stage.Published);
          const outside = new ApprovalFlow({ stage: Stage.Review });
          outside.publish();
          assert.equal(outside.review.stage, Stage.Published);
        }
      });

      test('a subclass of a persisted class with a transition not declared async is refused when it is defined', () => {
        assert.throws(() => flows.defineSyncUnderPersisted(), (e: unknown) => e instanceof TypeError && e.message.includes('publishNow()') && e.message.includes('async'));
      });
    });

    describe('entry and exit hooks, per-transition hooks, dynamic targets', () => {
      test('a dynamic target is computed before the state is set; onExit sees the source, onEnter the computed value', () => {
        const { RoutedFlow } = flows;
        for (let i = 0; i < 2; i++) {
          const low = new RoutedFlow({});
          low.route();
          assert.equal(low.review.stage, Stage.Review);
          assert.deepEqual(low.events, ['exit new (target new)', 'body in review', 'enter review']);
          const high = new RoutedFlow({ score: 9 });
          high.route();
          assert.equal(high.review.stage, Stage.Published);
          assert.deepEqual(high.events, ['exit new (target new)', 'body in published', 'enter published']);
        }
      });

      test('a hook with { transitions } runs for those transitions only', () => {
        const { RoutedFlow } = flows;
        const flow = new RoutedFlow({});
        flow.route();
        flow.hide();
        assert.deepEqual(flow.events, ['exit new (target new)', 'body in review', 'enter review', 'after hide']);
      });

      test('undeclared values in onEnter or in targets are TypeErrors naming them', () => {
        assert.throws(() => flows.defineOnEnterUnknownValue(), (e: unknown) => e instanceof TypeError && e.message.includes('"archived"') && e.message.includes('entered()'));
        assert.throws(() => flows.defineUnknownTargetsValue(), (e: unknown) => e instanceof TypeError && e.message.includes('"archived"') && e.message.includes('route()'));
      });
    });

    describe('definition errors are TypeErrors thrown when the class is defined', () => {
      test('an unknown value names the value and the method', () => {
        assert.throws(() => flows.defineUnknownTarget(), (e: unknown) => e instanceof TypeError && e.message.includes('"archived"') && e.message.includes('archive()'));
      });

      test('two stacked transitions with the same source', () => {
        assert.throws(() => flows.defineDuplicateSource(), (e: unknown) => e instanceof TypeError && e.message.includes('"new"') && e.message.includes('move()'));
      });

      test('inherit() with nothing to inherit', () => {
        assert.throws(() => flows.defineInheritWithoutParent(), (e: unknown) => e instanceof TypeError && e.message.includes('archive') && e.message.includes('inherit()'));
      });
    });
  });
}

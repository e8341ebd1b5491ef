/**
 * `actingAs(user, fn)` and permissions (README, Permissions): inside it every transition acts for
 * `user` (chained, hooked, async and queued calls included); a `permission` that refuses that user
 * fails the call with `TransitionNotAllowed` (`reason: 'permission'`) after the source check and
 * before the conditions, with nothing changed. Outside it permissions are not enforced.
 * Calls are made on fresh classes cold and warm, with and without hooks, so both paths are met.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State, TransitionNotAllowed, actingAs, type HookEvent } from 'transitional';
import { deferred, isPromise, within } from './support.ts';

const STAGES = ['draft', 'review', 'published', 'removed'] as const;
type Stage = (typeof STAGES)[number];
type User = { readonly id: string; readonly editor: boolean } | undefined;

const ann: User = { id: 'ann', editor: true };
const bob: User = { id: 'bob', editor: false };

/**
 * A review flow whose `publish` only editors may trigger; `log` records checks in order. `warm`:
 * every sync method has run once already (outside actingAs), so the next calls of a class without
 * hooks take the fast path (a method's first call probes its body on the general path).
 */
function reviewClass(hooked: boolean, warm = false) {
  const stage = new State(STAGES, { default: 'draft', name: 'stage' });
  const log: string[] = [];
  const isEditor = (_flow: unknown, user: User) => {
    log.push(`permission ${user?.id ?? String(user)}`);
    return user?.editor === true;
  };
  class Review {
    value: Stage | undefined = undefined;
    readonly writes: Stage[] = [];
    @stage.getter() g() { return this.value; }
    @stage.setter() s(v: Stage) { this.writes.push(v); this.value = v; }

    @stage.transition({ source: 'draft', target: 'review' })
    submit() {}

    @stage.transition({
      source: 'review',
      target: 'published',
      permission: isEditor,
      conditions: [() => (log.push('condition'), true)],
    })
    publish() {
      log.push('body publish');
      return 'published';
    }

    /** Chains `publish` from its body. */
    @stage.transition({ source: 'draft', target: 'review' })
    submitAndPublish() {
      return this.publish();
    }

    @stage.transition({ source: 'draft', target: 'review' })
    async submitThenPublish() {
      await Promise.resolve();
      return this.publish();
    }

    @stage.transition({ source: State.ANY, target: 'removed', permission: (_f: Review, user: User) => user === undefined })
    removeAnonymously() {}
  }
  class HookedReview extends Review {
    readonly users: unknown[] = [];
    @stage.before() seen(event: HookEvent<Stage>) {
      this.users.push(event.user);
      log.push(`before ${event.transition}`);
    }
  }
  const Flow = hooked ? HookedReview : Review;
  if (warm) {
    const flow = new Flow();
    flow.submit();
    flow.publish();
    flow.value = 'draft';
    flow.submitAndPublish();
    flow.removeAnonymously();
    log.length = 0;
  }
  return { stage, log, Review: Flow };
}

function refusedFor(user: string) {
  return (e: unknown) => {
    assert.ok(e instanceof TransitionNotAllowed, `expected TransitionNotAllowed, got ${String(e)}`);
    assert.equal(e.reason, 'permission');
    assert.equal(e.transition, 'publish');
    assert.equal(e.state, 'review');
    assert.match(e.message, /Review\.publish\(\) is not allowed from "review": its permission \(isEditor\) refuses the user it acts for/);
    assert.ok(e.message.includes(user), `the message names the user: ${e.message}`);
    return true;
  };
}

describe('actingAs', () => {
  test('runs fn and returns its result (a value, or the promise fn returns)', async () => {
    assert.equal(actingAs(ann, () => 42), 42);
    const p = actingAs(ann, async () => 'later');
    assert.ok(isPromise(p));
    assert.equal(await p, 'later');
    assert.throws(() => actingAs(ann, () => { throw new RangeError('inner'); }), RangeError);
  });

  test('fn must be a function', () => {
    assert.throws(() => actingAs(ann, 'nope' as never), { name: 'TypeError', message: /actingAs\(user, fn\): fn must be a function/ });
  });

  for (const hooked of [false, true]) for (const warm of [false, true]) {
    describe(`${hooked ? 'on a class with hooks (general path)' : 'on a class without hooks (fast path once warm)'}, ${warm ? 'warm' : 'cold'}`, () => {
      test('outside actingAs, permissions are not enforced', () => {
        const { Review, log } = reviewClass(hooked, warm);
        for (let i = 0; i < 3; i++) {
          const flow = new Review();
          flow.value = 'review';
          assert.equal(flow.publish(), 'published');
          assert.equal(flow.value, 'published');
        }
        assert.ok(!log.some((l) => l.startsWith('permission')), 'the permission is not even asked');
      });

      test('a refusing permission fails with reason "permission" before anything changes, cold and warm', () => {
        const { Review, log } = reviewClass(hooked, warm);
        for (let i = 0; i < 3; i++) {
          const flow = new Review();
          flow.value = 'review';
          log.length = 0;
          assert.throws(() => actingAs(bob, () => flow.publish()), refusedFor('"bob"'));
          assert.equal(flow.value, 'review');
          assert.deepEqual(flow.writes, []);
          assert.deepEqual(log, ['permission bob'], 'no condition, hook or body ran');
        }
      });

      test('an allowed user goes through, cold and warm; the permission gets the flow and the user', () => {
        const { Review, log } = reviewClass(hooked, warm);
        for (let i = 0; i < 3; i++) {
          const flow = new Review();
          flow.value = 'review';
          log.length = 0;
          assert.equal(actingAs(ann, () => flow.publish()), 'published');
          assert.equal(flow.value, 'published');
          assert.deepEqual(log, hooked ? ['permission ann', 'condition', 'before publish', 'body publish'] : ['permission ann', 'condition', 'body publish']);
        }
      });

      test('the source check comes first: a wrong source is refused with reason "source"', () => {
        const { Review, log } = reviewClass(hooked, warm);
        for (let i = 0; i < 2; i++) {
          const flow = new Review();
          log.length = 0;
          assert.throws(() => actingAs(bob, () => flow.publish()), (e: unknown) => e instanceof TransitionNotAllowed && e.reason === 'source');
          assert.deepEqual(log, []);
        }
      });

      test('a chained call acts for the same user: its refusal undoes the outer transition', () => {
        const { Review } = reviewClass(hooked, warm);
        for (let i = 0; i < 2; i++) {
          const flow = new Review();
          assert.throws(() => actingAs(bob, () => flow.submitAndPublish()), refusedFor('"bob"'));
          assert.equal(flow.value, 'draft', 'rolled back to the source');
          const ok = new Review();
          assert.equal(actingAs(ann, () => ok.submitAndPublish()), 'published');
          assert.equal(ok.value, 'published');
        }
      });

      test('across awaits: a transition an async body chains after an await acts for the user', async () => {
        const { Review } = reviewClass(hooked, warm);
        for (let i = 0; i < 2; i++) {
          const flow = new Review();
          await assert.rejects(actingAs(bob, () => flow.submitThenPublish()), refusedFor('"bob"'));
          assert.equal(flow.value, 'draft', 'the whole chain is undone');
          const ok = new Review();
          assert.equal(await actingAs(ann, () => ok.submitThenPublish()), 'published');
        }
      });

      test('a call made after an await inside actingAs still acts for the user', async () => {
        const { Review } = reviewClass(hooked, warm);
        const flow = new Review();
        await actingAs(bob, async () => {
          await flow.submit();
          await new Promise((r) => setTimeout(r, 1));
          assert.throws(() => flow.publish(), refusedFor('"bob"'));
        });
        assert.equal(flow.value, 'review');
      });

      test('an anonymous user: actingAs(undefined, ...) asks the permission with undefined', () => {
        const { Review } = reviewClass(hooked, warm);
        for (let i = 0; i < 2; i++) {
          const flow = new Review();
          actingAs(undefined, () => flow.removeAnonymously());
          assert.equal(flow.value, 'removed');
          const other = new Review();
          assert.throws(() => actingAs(ann, () => other.removeAnonymously()), (e: unknown) => e instanceof TransitionNotAllowed && e.reason === 'permission');
          assert.equal(other.value, undefined);
        }
      });

      test('nested actingAs: the innermost user acts, the outer one again after it', () => {
        const { Review } = reviewClass(hooked, warm);
        const a = new Review();
        a.value = 'review';
        const b = new Review();
        b.value = 'review';
        actingAs(bob, () => {
          actingAs(ann, () => a.publish());
          assert.throws(() => b.publish(), refusedFor('"bob"'));
        });
        assert.equal(a.value, 'published');
        assert.equal(b.value, 'review');
      });
    });
  }

  test('hook events carry the user (undefined outside actingAs), chained calls included', () => {
    const { Review } = reviewClass(true);
    const flow = new Review() as InstanceType<ReturnType<typeof reviewClass>['Review']> & { users: unknown[] };
    flow.submit();
    flow.value = 'draft';
    actingAs(ann, () => flow.submitAndPublish());
    assert.deepEqual(flow.users, [undefined, ann, ann]);
  });

  test('a permission that throws inside actingAs: the call fails with its error, nothing changed', () => {
    const s = new State(['a', 'b'] as const, { default: 'a' });
    class Flow {
      @s.transition({ source: 'a', target: 'b', permission: () => { throw new RangeError('directory down'); } })
      go() {}
    }
    for (let i = 0; i < 2; i++) {
      const flow = new Flow();
      assert.throws(() => actingAs(ann, () => flow.go()), RangeError);
      assert.equal(s.get(flow), 'a');
      flow.go(); // not enforced outside
      assert.equal(s.get(flow), 'b');
    }
  });

  test('a permission must return true: a truthy non-boolean refuses, as in hasPermission', () => {
    const s = new State(['a', 'b'] as const, { default: 'a' });
    class Flow {
      @s.transition({ source: 'a', target: 'b', permission: (() => 'yes') as never })
      go() {}
    }
    const flow = new Flow();
    assert.throws(() => actingAs(ann, () => flow.go()), (e: unknown) => e instanceof TransitionNotAllowed && e.reason === 'permission');
    assert.equal(s.hasPermission(flow, 'go', ann), false);
  });

  test('an onError hook acting on the failure acts for the same user', () => {
    const s = new State(['idle', 'working', 'failed'] as const, { default: 'idle' });
    class Job {
      @s.transition({ source: 'idle', target: 'working' }) run() {
        throw new Error('crash');
      }
      @s.transition({ source: 'idle', target: 'failed', permission: (_j: Job, user: User) => user?.editor === true }) markFailed() {}
      @s.onError() recover() {
        this.markFailed();
      }
    }
    const byAnn = new Job();
    assert.throws(() => actingAs(ann, () => byAnn.run()), /crash/);
    assert.equal(s.get(byAnn), 'failed');
    const byBob = new Job();
    assert.throws(() => actingAs(bob, () => byBob.run()), (e: unknown) => e instanceof TransitionNotAllowed && e.reason === 'permission');
    assert.equal(s.get(byBob), 'idle');
  });

  test('a queued call acts for the user it was made for, not the one whose call ran before it', async () => {
    const s = new State(['a', 'b', 'c'] as const, { default: 'a' });
    const gate = deferred();
    class Flow {
      @s.transition({ source: 'a', target: 'b' }) async slow() {
        await gate.promise;
      }
      @s.transition({ source: 'b', target: 'c', permission: (_f: Flow, user: User) => user?.editor === true }) approve() {}
    }
    const flow = new Flow();
    const first = actingAs(ann, () => flow.slow());
    const queued = actingAs(bob, () => flow.approve());
    assert.ok(isPromise(queued), 'a call made while another is in flight waits its turn');
    gate.resolve();
    await first;
    await assert.rejects(within(queued as Promise<unknown>, 500, 'the queued call'), (e: unknown) => e instanceof TransitionNotAllowed && e.reason === 'permission');
    assert.equal(s.get(flow), 'b');

    // The reverse: a call made outside actingAs, queued behind bob's call, acts for nobody.
    const other = new Flow();
    const started = actingAs(bob, () => other.slow());
    const outside = other.approve();
    assert.ok(isPromise(outside));
    await started;
    await outside;
    assert.equal(s.get(other), 'c');
  });

  test('hasPermission stays a permission-only question, inside actingAs too', () => {
    const { Review, stage } = reviewClass(false);
    const flow = new Review();
    actingAs(bob, () => {
      assert.equal(stage.hasPermission(flow, 'publish', ann), true);
      assert.equal(stage.hasPermission(flow, 'publish', bob), false);
    });
  });
});

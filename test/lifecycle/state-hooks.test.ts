/**
 * Hooks per state and per transition (README, Hooks): `@s.onEnter(values)` runs where an
 * `onSuccess` hook runs, for transitions that entered one of `values`; `@s.onExit(values)` where a
 * `before` hook runs, for transitions leaving one of them; `{ transitions: [...] }` on every hook
 * decorator and on `s.hook`; `s.hook` kinds named like the decorators, and its remover.
 * Every call is made twice on one flow class (its first call probes, later ones are warm).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State, TransitionNotAllowed, type HookEvent } from 'transitional';

const STAGES = ['draft', 'review', 'published', 'archived'] as const;
type Stage = (typeof STAGES)[number];

function articleClass() {
  const stage = new State(STAGES, { default: 'draft', name: 'stage' });
  const log: string[] = [];
  class Article {
    value: Stage | undefined = undefined;
    fail = false;
    @stage.getter() g() { return this.value; }
    @stage.setter() s(v: Stage) { this.value = v; }

    @stage.transition({ source: 'draft', target: 'review' }) submit() {
      log.push(`body submit in ${stage.get(this)}`);
      if (this.fail) throw new Error('submit failed');
    }
    @stage.transition({ source: 'review', target: 'published' }) publish() {
      log.push('body publish');
    }
    @stage.transition({ source: 'review', target: 'review' }) revise() {
      log.push('body revise');
    }
    @stage.transition({ source: 'review' }) comment() {
      log.push('body comment');
    }
    @stage.transition({ source: ['review', 'published'], target: 'archived' }) archive() {
      log.push('body archive');
    }

    @stage.onEnter('review') entered(e: HookEvent<Stage>) {
      log.push(`enter review by ${e.transition} (${e.source}->${e.target}) in ${stage.get(this)}`);
    }
    @stage.onEnter(['published', 'archived'], { order: -1 }) finished(e: HookEvent<Stage>) {
      log.push(`enter ${e.target} first`);
    }
    @stage.onSuccess() succeeded(e: HookEvent<Stage>) {
      log.push(`success ${e.transition}`);
    }
    @stage.onExit('review', { transitions: ['publish', 'revise'] }) leaving(e: HookEvent<Stage>) {
      log.push(`exit review by ${e.transition} in ${stage.get(this)}`);
    }
    @stage.before({ transitions: ['archive'] }) beforeArchive() {
      log.push('before archive');
    }
  }
  return { stage, log, Article };
}

describe('@s.onEnter and @s.onExit', () => {
  test('onEnter runs after the body, in the onSuccess place and order, for the states it lists', () => {
    const { log, Article } = articleClass();
    for (let i = 0; i < 2; i++) {
      log.length = 0;
      const a = new Article();
      a.submit();
      assert.deepEqual(log, ['body submit in review', 'enter review by submit (draft->review) in review', 'success submit']);
    }
  });

  test('onExit runs before the state changes, in the before place; order puts onEnter hooks first', () => {
    const { log, Article } = articleClass();
    for (let i = 0; i < 2; i++) {
      const a = new Article();
      a.submit();
      log.length = 0;
      a.publish();
      assert.deepEqual(log, ['exit review by publish in review', 'body publish', 'enter published first', 'success publish']);
    }
  });

  test('a transition whose target equals its source exits and enters that state', () => {
    const { log, Article } = articleClass();
    for (let i = 0; i < 2; i++) {
      const a = new Article();
      a.submit();
      log.length = 0;
      a.revise();
      assert.deepEqual(log, ['exit review by revise in review', 'body revise', 'enter review by revise (review->review) in review', 'success revise']);
    }
  });

  test('a transition without target enters and exits nothing', () => {
    const { log, Article } = articleClass();
    for (let i = 0; i < 2; i++) {
      const a = new Article();
      a.submit();
      log.length = 0;
      a.comment();
      assert.deepEqual(log, ['body comment', 'success comment']);
    }
  });

  test('a failed call enters nothing: no onEnter hook runs', () => {
    const { log, Article } = articleClass();
    for (let i = 0; i < 2; i++) {
      log.length = 0;
      const a = new Article();
      a.fail = true;
      assert.throws(() => a.submit(), /submit failed/);
      assert.deepEqual(log, ['body submit in review']);
      assert.equal(a.value, 'draft');
    }
  });

  test('{ transitions } restricts onExit and before hooks to the transitions it names', () => {
    const { log, Article } = articleClass();
    for (let i = 0; i < 2; i++) {
      const a = new Article();
      a.submit();
      log.length = 0;
      a.archive();
      assert.deepEqual(log, ['before archive', 'body archive', 'enter archived first', 'success archive'], 'archive leaves review, but onExit names publish and revise only');
    }
  });

  test('an onExit hook that throws aborts the call: nothing changes', () => {
    const s = new State(['a', 'b'] as const, { default: 'a' });
    class Flow {
      @s.transition({ source: 'a', target: 'b' }) go() {}
      @s.onExit('a') guard() {
        throw new Error('cannot leave a');
      }
    }
    for (let i = 0; i < 2; i++) {
      const flow = new Flow();
      assert.throws(() => flow.go(), /cannot leave a/);
      assert.equal(s.get(flow), 'a');
    }
  });

  test('on a method with two States, each State\'s hooks see their own source and target', () => {
    const level = new State([0, 1] as const, { default: 0 });
    const power = new State(['off', 'on'] as const, { default: 'off' });
    const log: string[] = [];
    class Device {
      @level.transition({ source: 0, target: 1 })
      @power.transition({ source: 'off', target: 'on' })
      boot() {}
      @level.onEnter(1) levelUp() {
        log.push('level 1');
      }
      @power.onExit('off') powerOn() {
        log.push('power leaves off');
      }
      @power.onEnter('off') powerOff() {
        log.push('never');
      }
    }
    new Device().boot();
    new Device().boot();
    assert.deepEqual(log, ['power leaves off', 'level 1', 'power leaves off', 'level 1']);
  });

  test('a hook chaining a transition from onEnter runs it from the entered state', () => {
    const s = new State(['new', 'triaged', 'started'] as const, { default: 'new' });
    class Ticket {
      urgent = false;
      @s.transition({ source: 'new', target: 'triaged' }) triage(urgent: boolean) {
        this.urgent = urgent;
      }
      @s.transition({ source: 'triaged', target: 'started' }) start() {}
      @s.onEnter('triaged') startUrgent() {
        if (this.urgent) this.start();
      }
    }
    for (let i = 0; i < 2; i++) {
      const urgent = new Ticket();
      urgent.triage(true);
      assert.equal(s.get(urgent), 'started');
      const normal = new Ticket();
      normal.triage(false);
      assert.equal(s.get(normal), 'triaged');
    }
  });

  test('undeclared values, an empty list, or an empty transitions list: TypeError when the class is defined', () => {
    const s = new State(['a', 'b'] as const, { default: 'a' });
    assert.throws(
      () => {
        class Bad {
          @s.onEnter('c' as never) x() {}
        }
        return Bad;
      },
      { name: 'TypeError', message: /@state\.onEnter\(\) on x\(\): value "c" is not a value of State\(state\) \(declared: "a", "b"\)/ },
    );
    assert.throws(
      () => {
        class Bad {
          @s.onExit([]) x() {}
        }
        return Bad;
      },
      { name: 'TypeError', message: /onExit\(\) on x\(\): give a value or a non-empty array/ },
    );
    assert.throws(
      () => {
        class Bad {
          @s.after({ transitions: [] as never[] }) x() {}
        }
        return Bad;
      },
      { name: 'TypeError', message: /transitions must be a non-empty array of transition \(method\) names/ },
    );
  });

  test('a decorated hook naming a transition the class does not have: TypeError at the first call, naming both', () => {
    const s = new State(['a', 'b'] as const, { default: 'a' });
    class Flow {
      @s.transition({ source: 'a', target: 'b' }) go() {}
      @s.before({ transitions: ['gone' as 'go'] }) audit() {}
    }
    for (let i = 0; i < 2; i++) {
      assert.throws(() => new Flow().go(), {
        name: 'TypeError',
        message: /Flow: @state\.before\(\) on audit\(\): transitions lists "gone", which is not a transition of Flow for State\(state\) \(its transitions: go\)/,
      });
    }
  });

  test('a parent\'s hook may name a transition that only its subclass declares', () => {
    const s = new State(['a', 'b'] as const, { default: 'a' });
    const log: string[] = [];
    abstract class Base {
      @s.onEnter('b', { transitions: ['finish'] as never[] }) done() {
        log.push('done');
      }
    }
    class Concrete extends Base {
      @s.transition({ source: 'a', target: 'b' }) finish() {}
    }
    new Concrete().finish();
    assert.deepEqual(log, ['done']);
  });
});

describe('s.hook(FlowClass, kind, fn, options)', () => {
  function jobClass() {
    const s = new State(['idle', 'running', 'done'] as const, { default: 'idle', name: 'job' });
    class Job {
      @s.transition({ source: 'idle', target: 'running' }) start() {}
      @s.transition({ source: 'running', target: 'done' }) finish(fail = false) {
        if (fail) throw new Error('crashed');
      }
    }
    return { s, Job };
  }

  test('kinds are named like the decorators; "success" and "error" stay as aliases', () => {
    const { s, Job } = jobClass();
    const log: string[] = [];
    s.hook(Job, 'onSuccess', (e) => log.push(`onSuccess ${e.transition}`));
    s.hook(Job, 'success', (e) => log.push(`success ${e.transition}`));
    s.hook(Job, 'onError', (e) => log.push(`onError ${e.transition}`));
    s.hook(Job, 'error', (e) => log.push(`error ${e.transition}`));
    const job = new Job();
    job.start();
    assert.throws(() => job.finish(true));
    assert.deepEqual(log, ['onSuccess start', 'success start', 'onError finish', 'error finish']);
  });

  test('{ transitions } restricts the hook; a name the class does not have is a TypeError at once', () => {
    const { s, Job } = jobClass();
    const log: string[] = [];
    s.hook(Job, 'before', (e) => log.push(e.transition), { transitions: ['finish'] });
    const job = new Job();
    job.start();
    job.finish();
    assert.deepEqual(log, ['finish']);
    assert.throws(() => s.hook(Job, 'after', () => {}, { transitions: ['stop' as 'start'] }), {
      name: 'TypeError',
      message: /State\(job\)\.hook\(Job, "after"\): transitions lists "stop", which is not a transition of Job \(and its parents\) \(its transitions: start, finish\)/,
    });
  });

  test('returns a remover: later calls no longer run the hook (on either path), and removing twice is harmless', () => {
    const { s, Job } = jobClass();
    const log: string[] = [];
    const remove = s.hook(Job, 'after', (e) => log.push(e.transition));
    const first = new Job();
    first.start();
    assert.deepEqual(log, ['start']);
    remove();
    remove();
    for (let i = 0; i < 3; i++) {
      const job = new Job();
      job.start();
      job.finish();
    }
    assert.deepEqual(log, ['start']);
    assert.throws(() => new Job().finish(), TransitionNotAllowed);
  });

  test('removing one hook keeps the others, in their order', () => {
    const { s, Job } = jobClass();
    const log: string[] = [];
    s.hook(Job, 'before', () => log.push('one'), { order: 1 });
    const removeTwo = s.hook(Job, 'before', () => log.push('two'), { order: 2 });
    s.hook(Job, 'before', () => log.push('zero'));
    removeTwo();
    new Job().start();
    assert.deepEqual(log, ['zero', 'one']);
  });
});

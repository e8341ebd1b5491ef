/**
 * Lifecycle hooks (README, Hooks): the event object, the order hooks run in, external
 * registration, and what each kind of hook may do (enrich arguments, abort, roll back, recover).
 *
 * Every test defines its own State and classes, so hooks registered by one test never reach another.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State, superTransition, TransitionNotAllowed, type HookEvent } from 'transitional';

const PHASES = ['idle', 'running', 'done', 'failed'] as const;
type Phase = (typeof PHASES)[number];
type Event = HookEvent<Phase>;

/** The fields of an event at the moment a hook saw it (the runtime reuses one object per call). */
function snapshot(e: Event) {
  const out: Record<string, unknown> = {
    flow: e.flow,
    state: e.state,
    transition: e.transition,
    source: e.source,
    target: e.target,
    args: [...e.args],
  };
  if ('result' in e) out.result = e.result;
  if ('error' in e) out.error = e.error;
  return out;
}

/**
 * A job flow whose setter records every write, with one hook of each kind logging into `log`.
 * `behaviour` lets a test make the body or a hook throw.
 */
function jobFlow() {
  const phase = new State(PHASES, { default: 'idle', name: 'phase' });
  const log: string[] = [];
  const seen: Record<string, unknown>[] = [];
  class Job {
    phase: Phase | undefined;
    readonly writes: Phase[] = [];
    fail: { body?: unknown; before?: unknown; success?: unknown; error?: unknown; after?: unknown } = {};

    @phase.getter() getPhase() {
      return this.phase;
    }
    @phase.setter() setPhase(value: Phase) {
      this.phase = value;
      this.writes.push(value);
    }

    @phase.transition({ source: 'idle', target: 'running' })
    start(...args: unknown[]) {
      log.push(`body:start(${args.join(',')}) in ${phase.get(this)}`);
      if (this.fail.body !== undefined) throw this.fail.body;
      return 'started';
    }

    @phase.transition({ source: 'running', target: 'done' })
    finish() {
      log.push('body:finish');
    }

    @phase.transition({ source: 'idle', target: 'running', onError: 'failed' })
    risky() {
      log.push('body:risky');
      if (this.fail.body !== undefined) throw this.fail.body;
    }

    @phase.transition({ source: ['idle', 'running'] })
    check() {
      log.push(`body:check in ${phase.get(this)}`);
      return 'checked';
    }

    @phase.before() beforeHook(e: Event) {
      log.push(`before:${e.transition}`);
      seen.push({ kind: 'before', ...snapshot(e) });
      if (this.fail.before !== undefined) throw this.fail.before;
    }
    @phase.onSuccess() successHook(e: Event) {
      log.push(`success:${e.transition}`);
      seen.push({ kind: 'success', ...snapshot(e) });
      if (this.fail.success !== undefined) throw this.fail.success;
    }
    @phase.onError() errorHook(e: Event) {
      log.push(`error:${e.transition} in ${phase.get(this)}`);
      seen.push({ kind: 'error', ...snapshot(e) });
      if (this.fail.error !== undefined) throw this.fail.error;
    }
    @phase.after() afterHook(e: Event) {
      log.push(`after:${e.transition}`);
      seen.push({ kind: 'after', ...snapshot(e) });
      if (this.fail.after !== undefined) throw this.fail.after;
    }
  }
  return { phase, Job, log, seen };
}

/** `assert.throws` matcher: exactly this error object, not a wrapper or a copy. */
const same = (expected: unknown) => (actual: unknown) => actual === expected;

describe('hook events', () => {
  test('decorated hooks receive { flow, state, transition, source, target, args, result } on success', () => {
    const { phase, Job, log, seen } = jobFlow();
    const job = new Job();
    assert.equal(job.start(1, 'a'), 'started');
    assert.deepEqual(log, ['before:start', 'body:start(1,a) in running', 'success:start', 'after:start']);
    const base = { flow: job, state: phase, transition: 'start', source: 'idle', target: 'running', args: [1, 'a'] };
    assert.deepEqual(seen, [
      { kind: 'before', ...base },
      { kind: 'success', ...base, result: 'started' },
      { kind: 'after', ...base, result: 'started' },
    ]);
    assert.equal(seen[0]!.flow, job);
    assert.equal(seen[0]!.state, phase);
  });

  test('onError and after hooks receive the error, and the caller gets that same error', () => {
    const { Job, log, seen } = jobFlow();
    const job = new Job();
    const boom = new Error('boom');
    job.fail.body = boom;
    assert.throws(() => job.start(), same(boom));
    assert.deepEqual(log, ['before:start', 'body:start() in running', 'error:start in idle', 'after:start']);
    const error = seen.find((s) => s.kind === 'error')!;
    const after = seen.find((s) => s.kind === 'after')!;
    assert.equal(error.error, boom);
    assert.equal(after.error, boom);
    assert.equal(error.source, 'idle');
    assert.equal(error.target, 'running');
    assert.ok(!seen.some((s) => s.kind === 'success'), 'onSuccess does not run on failure');
  });

  test('target equals source for a transition without target', () => {
    const { Job, seen } = jobFlow();
    const job = new Job();
    job.phase = 'running';
    assert.equal(job.check(), 'checked');
    assert.deepEqual(
      seen.map((s) => [s.kind, s.source, s.target]),
      [
        ['before', 'running', 'running'],
        ['success', 'running', 'running'],
        ['after', 'running', 'running'],
      ],
    );
    assert.deepEqual(job.writes, [], 'a transition without target writes nothing');
  });

  test('hooks are not run for a refused call', () => {
    const { Job, log } = jobFlow();
    const job = new Job();
    assert.throws(() => job.finish(), TransitionNotAllowed);
    assert.deepEqual(log, []);
  });
});

describe('external hooks: s.hook(FlowClass, kind, fn, { order })', () => {
  test('all four kinds run with the event, like decorated ones', () => {
    const phase = new State(PHASES, { default: 'idle' });
    class Job {
      fail = false;
      @phase.transition({ source: 'idle', target: 'running' })
      start(n: number) {
        if (this.fail) throw new Error('nope');
        return n * 2;
      }
    }
    const seen: Record<string, unknown>[] = [];
    for (const kind of ['before', 'success', 'error', 'after'] as const) {
      phase.hook(Job, kind, (e) => {
        seen.push({ kind, ...snapshot(e as Event) });
      });
    }
    const ok = new Job();
    assert.equal(ok.start(21), 42);
    const base = { flow: ok, state: phase, transition: 'start', source: 'idle', target: 'running', args: [21] };
    assert.deepEqual(seen, [
      { kind: 'before', ...base },
      { kind: 'success', ...base, result: 42 },
      { kind: 'after', ...base, result: 42 },
    ]);

    seen.length = 0;
    const bad = new Job();
    bad.fail = true;
    assert.throws(() => bad.start(1), /nope/);
    // (re-widened: the deepEqual above narrowed `seen` to the literal shape it checked)
    assert.deepEqual(
      (seen as Record<string, unknown>[]).map((s) => [s.kind, s.flow === bad, (s.error as Error | undefined)?.message]),
      [
        ['before', true, undefined],
        ['error', true, 'nope'],
        ['after', true, 'nope'],
      ],
    );
    assert.equal(phase.get(bad), 'idle');
  });

  test('a hook registered on a class applies to its subclasses, but not to its parent', () => {
    const phase = new State(PHASES, { default: 'idle' });
    class Base {
      @phase.transition({ source: 'idle', target: 'running' }) start() {}
    }
    class Mid extends Base {}
    class Leaf extends Mid {}
    const log: string[] = [];
    phase.hook(Mid, 'before', (e) => log.push(`mid:${(e.flow as object).constructor.name}`));
    new Base().start();
    new Mid().start();
    new Leaf().start();
    assert.deepEqual(log, ['mid:Mid', 'mid:Leaf']);
  });

  test('hooks registered after instances exist (and have run transitions) still apply', () => {
    const phase = new State(PHASES, { default: 'idle' });
    class Job {
      @phase.transition({ source: 'idle', target: 'running' }) start() {}
      @phase.transition({ source: 'running', target: 'idle' }) stop() {}
    }
    class SubJob extends Job {}
    const job = new Job();
    const sub = new SubJob();
    // Warm up: these calls run while no hook exists anywhere (the fast path).
    for (let i = 0; i < 50; i++) {
      job.start();
      job.stop();
      sub.start();
      sub.stop();
    }
    const log: string[] = [];
    phase.hook(Job, 'before', (e) => log.push(`before:${e.transition}:${(e.flow as object).constructor.name}`));
    phase.hook(Job, 'after', (e) => log.push(`after:${e.transition}:${(e.flow as object).constructor.name}`));
    job.start();
    sub.start();
    assert.deepEqual(log, ['before:start:Job', 'after:start:Job', 'before:start:SubJob', 'after:start:SubJob']);
  });

  test('an invalid kind or a non-function hook is a TypeError', () => {
    const phase = new State(PHASES, { default: 'idle' });
    class Job {
      @phase.transition({ source: 'idle', target: 'running' }) start() {}
    }
    assert.throws(() => phase.hook(Job, 'onEnter' as never, () => {}), TypeError);
    assert.throws(() => phase.hook(Job, 'before', 42 as never), TypeError);
  });
});

describe('hook order', () => {
  test('order ascending; ties: parents first, then declaration order, decorated before external', () => {
    const phase = new State(PHASES, { default: 'idle' });
    const log: string[] = [];
    class Parent {
      @phase.before() p1() {
        log.push('parent decorated #1');
      }
      @phase.before({ order: 5 }) pLate() {
        log.push('parent decorated order 5');
      }
      @phase.before() p2() {
        log.push('parent decorated #2');
      }
      @phase.transition({ source: 'idle', target: 'running' }) start() {
        log.push('body');
      }
    }
    phase.hook(Parent, 'before', () => log.push('parent external'));
    class Child extends Parent {
      @phase.before() c1() {
        log.push('child decorated');
      }
      @phase.before({ order: -1 }) cEarly() {
        log.push('child decorated order -1');
      }
    }
    phase.hook(Child, 'before', () => log.push('child external #1'));
    phase.hook(Child, 'before', () => log.push('child external order -10'), { order: -10 });
    phase.hook(Child, 'before', () => log.push('child external #2'));

    new Child().start();
    assert.deepEqual(log, [
      'child external order -10',
      'child decorated order -1',
      'parent decorated #1',
      'parent decorated #2',
      'parent external',
      'child decorated',
      'child external #1',
      'child external #2',
      'parent decorated order 5',
      'body',
    ]);

    log.length = 0;
    new Parent().start();
    assert.deepEqual(log, ['parent decorated #1', 'parent decorated #2', 'parent external', 'parent decorated order 5', 'body']);
  });

  test('each kind keeps its own order: before…, body, onSuccess…, after… (by order within a kind)', () => {
    const phase = new State(PHASES, { default: 'idle' });
    const log: string[] = [];
    class Job {
      @phase.after({ order: -1 }) a1() {
        log.push('after -1');
      }
      @phase.after() a2() {
        log.push('after 0');
      }
      @phase.onSuccess({ order: 2 }) s2() {
        log.push('success 2');
      }
      @phase.onSuccess({ order: 1 }) s1() {
        log.push('success 1');
      }
      @phase.transition({ source: 'idle', target: 'running' }) start() {
        log.push('body');
      }
    }
    phase.hook(Job, 'success', () => log.push('success ext 1.5'), { order: 1.5 });
    phase.hook(Job, 'before', () => log.push('before ext'));
    new Job().start();
    assert.deepEqual(log, ['before ext', 'body', 'success 1', 'success ext 1.5', 'success 2', 'after -1', 'after 0']);
  });

  test('a hook order that is not a finite number is a TypeError', () => {
    const phase = new State(PHASES, { default: 'idle' });
    class Job {
      @phase.transition({ source: 'idle', target: 'running' }) start() {}
    }
    assert.throws(() => phase.hook(Job, 'before', () => {}, { order: Number.NaN }), TypeError);
  });
});

describe('before hooks', () => {
  test('may enrich the arguments in place: the body sees the changed event.args', () => {
    const phase = new State(PHASES, { default: 'idle' });
    class Job {
      received: unknown[] = [];
      @phase.before() enrich(e: Event) {
        e.args[0] = `${String(e.args[0])}!`;
        e.args.push('added by before');
      }
      @phase.transition({ source: 'idle', target: 'running' })
      start(...args: unknown[]) {
        this.received = args;
      }
    }
    const job = new Job();
    job.start('hello');
    assert.deepEqual(job.received, ['hello!', 'added by before']);
  });

  test('may replace event.args with a new array: the body sees the new arguments', () => {
    const phase = new State(PHASES, { default: 'idle' });
    class Job {
      received: unknown[] = [];
      @phase.before() replace(e: Event) {
        e.args = ['replaced', 2];
      }
      @phase.transition({ source: 'idle', target: 'running' })
      start(...args: unknown[]) {
        this.received = args;
      }
    }
    const job = new Job();
    job.start('original');
    assert.deepEqual(job.received, ['replaced', 2]);
  });

  test('a later before hook sees what an earlier one put in event.args', () => {
    const phase = new State(PHASES, { default: 'idle' });
    const seen: unknown[][] = [];
    class Job {
      @phase.transition({ source: 'idle', target: 'running' }) start(_n?: number) {}
    }
    phase.hook(Job, 'before', (e) => void (e.args[0] = 1));
    phase.hook(Job, 'before', (e) => void seen.push([...e.args]));
    new Job().start(0);
    assert.deepEqual(seen, [[1]]);
  });

  test('a throwing before hook aborts: no setter write, no body, no onSuccess; the error propagates unchanged', () => {
    const { phase, Job, log } = jobFlow();
    const job = new Job();
    const veto = new Error('veto');
    job.fail.before = veto;
    assert.throws(() => job.start(), same(veto));
    assert.deepEqual(job.writes, []);
    assert.equal(phase.get(job), 'idle');
    assert.ok(!log.some((l) => l.startsWith('body') || l.startsWith('success')), log.join(' | '));
  });

  test('library choice: a before-hook failure still runs the onError and after hooks, but writes no state', () => {
    const { Job, log, seen } = jobFlow();
    const job = new Job();
    const veto = new Error('veto');
    job.fail.before = veto;
    assert.throws(() => job.start(), same(veto));
    assert.deepEqual(log, ['before:start', 'error:start in idle', 'after:start']);
    assert.equal(seen.find((s) => s.kind === 'error')!.error, veto);
    assert.deepEqual(job.writes, []);
  });

  test('a before-hook failure on a transition with onError does not move to the onError value', () => {
    const { phase, Job } = jobFlow();
    const job = new Job();
    job.fail.before = new Error('veto');
    assert.throws(() => job.risky(), /veto/);
    assert.equal(phase.get(job), 'idle');
    assert.deepEqual(job.writes, []);
  });
});

describe('onSuccess hooks', () => {
  test('a throwing onSuccess hook rolls back to the source and its error propagates', () => {
    const { phase, Job, log } = jobFlow();
    const job = new Job();
    const late = new Error('late');
    job.fail.success = late;
    assert.throws(() => job.start(), same(late));
    assert.equal(phase.get(job), 'idle');
    assert.deepEqual(job.writes, ['running', 'idle']);
    assert.deepEqual(log, ['before:start', 'body:start() in running', 'success:start', 'error:start in idle', 'after:start']);
  });

  test('a throwing onSuccess hook on a transition with onError moves to the onError value', () => {
    const { phase, Job } = jobFlow();
    const job = new Job();
    job.fail.success = new Error('late');
    assert.throws(() => job.risky(), /late/);
    assert.equal(phase.get(job), 'failed');
    assert.deepEqual(job.writes, ['running', 'failed']);
  });

  test('later onSuccess hooks do not run after one throws', () => {
    const phase = new State(PHASES, { default: 'idle' });
    const log: string[] = [];
    class Job {
      @phase.transition({ source: 'idle', target: 'running' }) start() {}
    }
    phase.hook(Job, 'success', () => {
      throw new Error('first');
    });
    phase.hook(Job, 'success', () => log.push('second'));
    assert.throws(() => new Job().start(), /first/);
    assert.deepEqual(log, []);
  });
});

describe('onError hooks', () => {
  test('run after the rollback, with the state already back at the source (or the onError value)', () => {
    const { Job, log } = jobFlow();
    const a = new Job();
    a.fail.body = new Error('x');
    assert.throws(() => a.start(), /x/);
    assert.ok(log.includes('error:start in idle'), log.join(' | '));

    log.length = 0;
    const b = new Job();
    b.fail.body = new Error('y');
    assert.throws(() => b.risky(), /y/);
    assert.ok(log.includes('error:risky in failed'), log.join(' | '));
  });

  test('a transition an onError hook calls runs from the rolled-back state and stands; the original error is rethrown', () => {
    const phase = new State(PHASES, { default: 'idle' });
    const boom = new Error('boom');
    class Job {
      phase: Phase | undefined;
      readonly writes: Phase[] = [];
      @phase.getter() getPhase() {
        return this.phase;
      }
      @phase.setter() setPhase(value: Phase) {
        this.phase = value;
        this.writes.push(value);
      }
      @phase.transition({ source: 'idle', target: 'running' }) start() {
        throw boom;
      }
      /** Only allowed from idle: proves it ran from the rolled-back state, not from running. */
      @phase.transition({ source: 'idle', target: 'failed' }) markFailed() {}
      @phase.onError() recover(e: Event) {
        if (e.transition === 'start') this.markFailed();
      }
    }
    const job = new Job();
    assert.throws(() => job.start(), same(boom));
    assert.equal(phase.get(job), 'failed');
    assert.deepEqual(job.writes, ['running', 'idle', 'failed']);
  });

  test('recovery from an onError value: fail → recovering, the hook recovers to idle', () => {
    const stage = new State(['idle', 'running', 'recovering'] as const, { default: 'idle' });
    class Manager {
      @stage.transition({ source: 'idle', target: 'running', onError: 'recovering' }) run() {
        throw new Error('job failed');
      }
      @stage.transition({ source: 'recovering', target: 'idle' }) recover() {}
      @stage.onError() onFailure() {
        if (stage.get(this) === 'recovering') this.recover();
      }
    }
    const m = new Manager();
    assert.throws(() => m.run(), /job failed/);
    assert.equal(stage.get(m), 'idle');
  });

  test('library choice: an onError hook that throws replaces the error (like a catch block that throws); the rollback stands', () => {
    const { phase, Job, log } = jobFlow();
    const job = new Job();
    const original = new Error('original');
    const replacement = new Error('replacement');
    job.fail.body = original;
    job.fail.error = replacement;
    assert.throws(() => job.start(), same(replacement));
    assert.equal(phase.get(job), 'idle');
    assert.deepEqual(job.writes, ['running', 'idle']);
    assert.ok(log.includes('after:start'), 'after hooks still run');
  });

  test('library choice: once an onError hook throws, later onError hooks are skipped (after hooks still run)', () => {
    const phase = new State(PHASES, { default: 'idle' });
    const log: string[] = [];
    class Job {
      @phase.transition({ source: 'idle', target: 'running' }) start() {
        throw new Error('body');
      }
    }
    phase.hook(Job, 'error', () => {
      throw new Error('hook');
    });
    phase.hook(Job, 'error', () => log.push('second onError'));
    phase.hook(Job, 'after', () => log.push('after'));
    assert.throws(() => new Job().start(), /hook/);
    assert.deepEqual(log, ['after']);
  });
});

describe('after hooks', () => {
  test('run on success and on failure alike (release what was acquired)', () => {
    const phase = new State(PHASES, { default: 'idle' });
    const held = new Set<object>();
    class Job {
      fail = false;
      resource: object | undefined;
      @phase.transition({ source: 'idle', target: 'running' }) start() {
        this.resource = {};
        held.add(this.resource);
        if (this.fail) throw new Error('job failed');
      }
      @phase.after() release() {
        if (this.resource) held.delete(this.resource);
        this.resource = undefined;
      }
    }
    const ok = new Job();
    ok.start();
    const bad = new Job();
    bad.fail = true;
    assert.throws(() => bad.start(), /job failed/);
    assert.equal(held.size, 0);
    assert.equal(phase.get(ok), 'running');
    assert.equal(phase.get(bad), 'idle');
  });

  test('library choice: an after hook that throws on success replaces the result (like finally); the state keeps the target', () => {
    const { phase, Job } = jobFlow();
    const job = new Job();
    const cleanup = new Error('cleanup failed');
    job.fail.after = cleanup;
    assert.throws(() => job.start(), same(cleanup));
    assert.equal(phase.get(job), 'running');
    assert.deepEqual(job.writes, ['running']);
  });

  test('library choice: an after hook that throws on failure replaces the error (like finally); the rollback stands', () => {
    const { phase, Job } = jobFlow();
    const job = new Job();
    const cleanup = new Error('cleanup failed');
    job.fail.body = new Error('body failed');
    job.fail.after = cleanup;
    assert.throws(() => job.start(), same(cleanup));
    assert.equal(phase.get(job), 'idle');
    assert.deepEqual(job.writes, ['running', 'idle']);
  });
});

describe('chains and superTransition', () => {
  test('hooks of a chained inner transition fire for it alone, inside the outer call', () => {
    const phase = new State(PHASES, { default: 'idle' });
    const log: string[] = [];
    class Job {
      @phase.transition({ source: 'idle', target: 'running' }) send() {
        log.push('body:send');
        this.complete();
      }
      @phase.transition({ source: 'running', target: 'done' }) complete() {
        log.push('body:complete');
      }
    }
    for (const kind of ['before', 'success', 'after'] as const) {
      phase.hook(Job, kind, (e) => log.push(`${kind}:${e.transition} ${e.source}->${e.target}`));
    }
    const job = new Job();
    job.send();
    assert.deepEqual(log, [
      'before:send idle->running',
      'body:send',
      'before:complete running->done',
      'body:complete',
      'success:complete running->done',
      'after:complete running->done',
      'success:send idle->running',
      'after:send idle->running',
    ]);
    assert.equal(phase.get(job), 'done');
  });

  test('an outer failure after a chained call undoes the chain; each transition gets its own onError/after', () => {
    const phase = new State(PHASES, { default: 'idle' });
    const log: string[] = [];
    class Job {
      @phase.transition({ source: 'idle', target: 'running' }) send() {
        this.complete();
        throw new Error('outer failed');
      }
      @phase.transition({ source: 'running', target: 'done' }) complete() {}
    }
    for (const kind of ['success', 'error', 'after'] as const) {
      phase.hook(Job, kind, (e) => log.push(`${kind}:${e.transition}`));
    }
    const job = new Job();
    assert.throws(() => job.send(), /outer failed/);
    assert.equal(phase.get(job), 'idle');
    assert.deepEqual(log, ['success:complete', 'after:complete', 'error:send', 'after:send']);
  });

  test('a superTransition call fires no hooks and writes no state: the child call fires each hook once', () => {
    const phase = new State(PHASES, { default: 'idle' });
    const log: string[] = [];
    class Parent {
      phase: Phase | undefined;
      readonly writes: Phase[] = [];
      @phase.getter() getPhase() {
        return this.phase;
      }
      @phase.setter() setPhase(value: Phase) {
        this.phase = value;
        this.writes.push(value);
      }
      @phase.transition({ source: 'idle', target: 'running' }) start() {
        log.push('parent body');
      }
      @phase.before() b(e: Event) {
        log.push(`before:${e.transition}`);
      }
      @phase.onSuccess() s(e: Event) {
        log.push(`success:${e.transition}`);
      }
      @phase.after() a(e: Event) {
        log.push(`after:${e.transition}`);
      }
    }
    class Child extends Parent {
      @phase.inherit()
      override start() {
        superTransition(Parent, this).start();
        log.push('child body');
      }
    }
    const child = new Child();
    child.start();
    assert.deepEqual(log, ['before:start', 'parent body', 'child body', 'success:start', 'after:start']);
    assert.deepEqual(child.writes, ['running']);
  });
});

describe('hooks on a method with two States', () => {
  test('each State runs its own hooks with its own source and target', () => {
    const power = new State(['off', 'on'] as const, { default: 'off', name: 'power' });
    const door = new State(['closed', 'open'] as const, { default: 'closed', name: 'door' });
    const log: string[] = [];
    class Oven {
      @power.transition({ source: 'off', target: 'on' })
      @door.transition({ source: 'closed', target: 'open' })
      openAndHeat() {}
    }
    power.hook(Oven, 'before', (e) => log.push(`power ${e.source}->${e.target}`));
    door.hook(Oven, 'before', (e) => log.push(`door ${e.source}->${e.target}`));
    const oven = new Oven();
    oven.openAndHeat();
    assert.deepEqual([...log].sort(), ['door closed->open', 'power off->on']);
    assert.equal(power.get(oven), 'on');
    assert.equal(door.get(oven), 'open');
  });
});

/**
 * `@s.afterCommit()` on in-memory flows (README, Effects after commit): once per change the
 * outermost call kept, in order, after it succeeded; never for a call that failed; errors reported,
 * never changing the outcome; transitions it calls are new calls. Every test defines its own State.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AfterCommitError, State, type HookEvent } from 'transitional';
import { deferred, flush } from './support.ts';

const PHASES = ['idle', 'running', 'done', 'failed'] as const;
type Phase = (typeof PHASES)[number];

/** Collects the `AfterCommitError` warnings emitted while `fn` runs (and until it settles). */
async function warningsDuring(fn: () => unknown): Promise<AfterCommitError[]> {
  const seen: AfterCommitError[] = [];
  const listener = (w: Error) => {
    if (w instanceof AfterCommitError) seen.push(w);
  };
  process.on('warning', listener);
  try {
    await fn();
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', listener);
  }
  return seen;
}

function jobs() {
  const phase = new State(PHASES, { default: 'idle', name: 'phase' });
  const log: string[] = [];
  class Job {
    @phase.transition({ source: 'idle', target: 'running' })
    start(chain = false) {
      log.push('body start');
      if (chain) this.finish();
      return 'started';
    }
    @phase.transition({ source: 'running', target: 'done' })
    finish() {
      log.push('body finish');
    }
    @phase.transition({ source: 'idle', target: 'running', onError: 'failed' })
    risky() {
      throw new Error('boom');
    }
    @phase.transition({ source: ['done', 'failed'], target: 'idle' })
    reset() {}
    @phase.after()
    afterHook(e: HookEvent<Phase>) {
      log.push(`after ${e.transition}`);
    }
    @phase.afterCommit()
    committed(e: HookEvent<Phase>) {
      log.push(`afterCommit ${e.transition} ${e.source}>${e.target} [${e.args.join(',')}] ${String(e.result)}`);
    }
  }
  return { phase, log, Job };
}

describe('afterCommit on an in-memory flow', () => {
  test('runs after the outermost call succeeded, after its after hooks, before it returns; fast and general path alike', () => {
    const { log, Job } = jobs();
    for (let i = 0; i < 2; i++) {
      log.length = 0;
      const job = new Job();
      assert.equal(job.start(), 'started');
      assert.deepEqual(log, ['body start', 'after start', 'afterCommit start idle>running [] started']);
    }
  });

  test('once per change of a chain, in the order the changes happened, with each call’s own arguments and result', () => {
    const { log, Job } = jobs();
    const job = new Job();
    job.start(true);
    assert.deepEqual(log, [
      'body start',
      'body finish',
      'after finish',
      'after start',
      'afterCommit start idle>running [true] started',
      'afterCommit finish running>done [] undefined',
    ]);
  });

  test('never for a call that failed, an onError move included', () => {
    const { phase, log, Job } = jobs();
    const job = new Job();
    assert.throws(() => job.risky(), /boom/);
    assert.equal(phase.get(job), 'failed');
    assert.deepEqual(log, ['after risky']);
  });

  test('never for a call refused before anything changed', () => {
    const { log, Job } = jobs();
    const job = new Job();
    assert.throws(() => job.finish());
    assert.deepEqual(log, []);
  });

  test('a throwing hook changes nothing: the call returns, the other hooks run, the error is an AfterCommitError warning', async () => {
    const phase = new State(PHASES, { default: 'idle', name: 'phase' });
    const ran: string[] = [];
    class Job {
      @phase.transition({ source: 'idle', target: 'running' })
      start() {
        return 42;
      }
      @phase.afterCommit({ order: 1 })
      first() {
        ran.push('first');
        throw new Error('mailer down');
      }
      @phase.afterCommit({ order: 2 })
      async second() {
        ran.push('second');
        throw new Error('queue down');
      }
      @phase.afterCommit({ order: 3 })
      third() {
        ran.push('third');
      }
    }
    const job = new Job();
    let result: unknown;
    const warnings = await warningsDuring(async () => {
      result = job.start();
      await flush();
    });
    assert.equal(result, 42);
    assert.equal(phase.get(job), 'running');
    assert.deepEqual(ran, ['first', 'second', 'third']);
    assert.deepEqual(
      warnings.map((w) => [w.flow, w.transition, w.hook, (w.cause as Error).message]),
      [
        ['Job', 'start', 'first()', 'mailer down'],
        ['Job', 'start', 'second()', 'queue down'],
      ],
    );
    assert.match(warnings[0]!.message, /Job\.start\(\) was committed, but its afterCommit hook first\(\) failed: mailer down/);
  });

  test('an async call settles after its async afterCommit hooks ran', async () => {
    const phase = new State(PHASES, { default: 'idle', name: 'phase' });
    const gate = deferred();
    const log: string[] = [];
    class Job {
      @phase.transition({ source: 'idle', target: 'running' })
      async start() {
        log.push('body');
      }
      @phase.afterCommit()
      async committed() {
        await gate.promise;
        log.push('afterCommit');
      }
    }
    const job = new Job();
    let settled = false;
    const call = job.start().then(() => {
      settled = true;
    });
    await flush();
    assert.deepEqual(log, ['body']);
    assert.equal(settled, false);
    gate.resolve();
    await call;
    assert.deepEqual(log, ['body', 'afterCommit']);
  });

  test('a transition called from an afterCommit hook is a new call (it has its own afterCommit), sync and async', async () => {
    const phase = new State(PHASES, { default: 'idle', name: 'phase' });
    const log: string[] = [];
    class Job {
      @phase.transition({ source: 'idle', target: 'running' })
      start() {}
      @phase.transition({ source: 'running', target: 'done' })
      async finish() {}
      @phase.afterCommit()
      committed(e: HookEvent<Phase>) {
        log.push(e.transition);
        if (e.transition === 'start') return this.finish();
      }
    }
    const job = new Job();
    job.start();
    await flush();
    await flush();
    assert.equal(phase.get(job), 'done');
    assert.deepEqual(log, ['start', 'finish']);
  });

  test('{ transitions } limits a hook to those transitions', () => {
    const phase = new State(PHASES, { default: 'idle', name: 'phase' });
    const log: string[] = [];
    class Job {
      @phase.transition({ source: 'idle', target: 'running' })
      start() {}
      @phase.transition({ source: 'running', target: 'done' })
      finish() {}
      @phase.afterCommit({ transitions: ['finish'] })
      onlyFinish(e: HookEvent<Phase>) {
        log.push(e.transition);
      }
    }
    const job = new Job();
    job.start();
    job.finish();
    assert.deepEqual(log, ['finish']);
  });

  test('hooks of a parent class apply to subclasses; the event carries the acting user', async () => {
    const { actingAs } = await import('transitional');
    const phase = new State(PHASES, { default: 'idle', name: 'phase' });
    const users: unknown[] = [];
    class Base {
      @phase.transition({ source: 'idle', target: 'running' })
      start() {}
      @phase.afterCommit()
      committed(e: HookEvent<Phase>) {
        users.push(e.user);
      }
    }
    class Child extends Base {}
    actingAs('ann', () => new Child().start());
    new Child().start();
    assert.deepEqual(users, ['ann', undefined]);
  });
});

describe('what only a persisted flow can have', () => {
  test('a timer (after) that is not a positive finite number is a TypeError when the class is defined', () => {
    const phase = new State(PHASES, { default: 'idle', name: 'phase' });
    for (const after of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
      assert.throws(
        () => {
          class Job {
            @phase.transition({ source: 'running', target: 'failed', after })
            async expire() {}
          }
          return Job;
        },
        (e) => e instanceof TypeError && /after must be a positive, finite number of milliseconds/.test(e.message),
      );
    }
  });

  test('a timer from a state to itself is a TypeError when the class is defined', () => {
    const phase = new State(PHASES, { default: 'idle', name: 'phase' });
    assert.throws(() => {
      class Job {
        @phase.transition({ source: 'running', target: 'running', after: 1000 })
        async again() {}
      }
      return Job;
    }, /would fire again and again/);
  });

  test('a timer or a durable hook on an in-memory flow: a TypeError at its first call, naming it and saying how to persist', async () => {
    const phase = new State(PHASES, { default: 'idle', name: 'phase' });
    class Timed {
      @phase.transition({ source: 'idle', target: 'running' })
      async start() {}
      @phase.transition({ source: 'running', target: 'failed', after: 60_000 })
      async expire() {}
    }
    await assert.rejects(new Timed().start(), (e) => e instanceof TypeError && /the timer \(after\) of expire\(\) needs a persisted flow/.test(e.message) && /persistTransitions/.test(e.message));
    class Durable {
      @phase.transition({ source: 'idle', target: 'running' })
      start() {}
      @phase.afterCommit({ durable: true })
      async mail() {}
    }
    assert.throws(() => new Durable().start(), (e) => e instanceof TypeError && /mail\(\) \(durable\) needs a persisted flow/.test(e.message));
  });

  test('durable is an option of afterCommit hooks only, and a boolean', () => {
    const phase = new State(PHASES, { default: 'idle', name: 'phase' });
    assert.throws(() => {
      class Job {
        @phase.onSuccess({ durable: true } as never)
        hook() {}
      }
      return Job;
    }, /durable is an option of afterCommit hooks/);
    assert.throws(() => {
      class Job {
        @phase.afterCommit({ durable: 'yes' as never })
        hook() {}
      }
      return Job;
    }, /durable is an option of afterCommit hooks, and a boolean/);
  });
});

/**
 * Flows without `@s.getter()`/`@s.setter()` (README, Accessors): the value lives on the flow instance
 * in a private slot, starting at the default. A getter without a setter (or the reverse) is an
 * error as soon as the flow is used.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State, TransitionNotAllowed } from 'transitional';

const traffic = new State(['red', 'green'] as const, { default: 'red', name: 'traffic' });
const count = new State([0, 1, 2] as const, { default: 1, name: 'count' });
const bare = new State(['a', 'b'] as const, { name: 'bare' });

class Light {
  @traffic.transition({ source: 'red', target: 'green' }) go(fail = false) {
    if (fail) throw new Error('stuck');
  }
  @traffic.transition({ source: 'green', target: 'red' }) stop() {}
  @count.transition({ source: 1, target: 0 }) down() {}
  @count.transition({ source: 0, target: 2 }) jump() {}
}

describe('the private slot', () => {
  test('starts at the default', () => {
    const light = new Light();
    assert.equal(traffic.get(light), 'red');
    assert.equal(count.get(light), 1);
  });

  test('holds the target after a transition, per instance', () => {
    const a = new Light();
    const b = new Light();
    a.go();
    assert.equal(traffic.get(a), 'green');
    assert.equal(traffic.get(b), 'red');
    assert.throws(() => b.stop(), TransitionNotAllowed);
    a.stop();
    assert.equal(traffic.get(a), 'red');
  });

  test('is rolled back when the body throws', () => {
    const light = new Light();
    assert.throws(() => light.go(true), /stuck/);
    assert.equal(traffic.get(light), 'red');
  });

  test('holds 0 as a state, distinct from the default', () => {
    const light = new Light();
    light.down();
    assert.equal(count.get(light), 0);
    light.jump();
    assert.equal(count.get(light), 2);
  });

  test('two States on one flow keep separate slots', () => {
    const light = new Light();
    light.go();
    light.down();
    assert.equal(traffic.get(light), 'green');
    assert.equal(count.get(light), 0);
  });

  test('does not show up as a field of the flow', () => {
    const light = new Light();
    light.go();
    assert.deepEqual(Object.keys(light), []);
    assert.equal(JSON.stringify(light), '{}');
  });

  test('without a default, the first call is a TypeError saying so', () => {
    class Bare {
      @bare.transition({ source: 'a', target: 'b' }) go() {}
    }
    assert.throws(() => new Bare().go(), (e: unknown) => e instanceof TypeError && /default/.test(e.message));
    assert.throws(() => bare.get(new Bare()), TypeError);
  });

  test('the slot also serves chained calls and State.ANY', () => {
    const s = new State(['idle', 'busy', 'done'] as const, { default: 'idle' });
    class Job {
      @s.transition({ source: 'idle', target: 'busy' }) run() { this.finish(); }
      @s.transition({ source: 'busy', target: 'done' }) finish() {}
      @s.transition({ source: State.ANY, target: 'idle' }) reset() {}
    }
    const job = new Job();
    job.run();
    assert.equal(s.get(job), 'done');
    job.reset();
    assert.equal(s.get(job), 'idle');
    job.reset();
    assert.equal(s.get(job), 'idle');
  });
});

describe('accessors declared by halves', () => {
  test('a getter without a setter: defining the class works, using it is a TypeError naming the class and what is missing', () => {
    class HalfRead {
      value: 'red' | 'green' = 'red';
      @traffic.getter() read() { return this.value; }
      @traffic.transition({ source: 'red', target: 'green' }) go() {}
    }
    const flow = new HalfRead();
    assert.throws(() => flow.go(), (e: unknown) => e instanceof TypeError && /setter/.test(e.message) && /HalfRead/.test(e.message));
    assert.equal(flow.value, 'red');
    assert.throws(() => flow.go(), TypeError, 'the error repeats on every use');
    assert.throws(() => traffic.get(flow), TypeError);
  });

  test('a setter without a getter is a TypeError too, and nothing is written', () => {
    const writes: string[] = [];
    class HalfWrite {
      @traffic.setter() write(v: 'red' | 'green') { writes.push(v); }
      @traffic.transition({ source: 'red', target: 'green' }) go() {}
    }
    assert.throws(() => new HalfWrite().go(), (e: unknown) => e instanceof TypeError && /getter/.test(e.message));
    assert.deepEqual(writes, []);
  });
});

/**
 * `input` (README, Validated input): a Standard Schema validates the first argument before anything
 * changes and replaces it by the parsed value; a failure throws `InvalidTransitionInput` with the
 * schema's issues. Tested with zod and valibot, the two schema libraries users reach for first.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import * as v from 'valibot';
import { InvalidTransitionInput, State, type HookEvent, type StandardSchemaV1 } from 'transitional';
import { isPromise } from './support.ts';

const STAGES = ['cart', 'ordered', 'paid'] as const;
type Stage = (typeof STAGES)[number];

/**
 * An order flow whose `place` transition validates its first argument with `schema`. Every setter
 * write, body call and hook call is recorded so a test can prove that nothing ran.
 */
function orderFlow(schema: StandardSchemaV1) {
  const stage = new State(STAGES, { default: 'cart', name: 'stage' });
  const log: string[] = [];
  class Order {
    stage: Stage | undefined;
    readonly writes: Stage[] = [];
    received: unknown[] = [];
    @stage.getter() getStage() {
      return this.stage;
    }
    @stage.setter() setStage(value: Stage) {
      this.stage = value;
      this.writes.push(value);
    }
    @stage.transition({ source: 'cart', target: 'ordered', input: schema })
    place(...args: unknown[]) {
      log.push('body');
      this.received = args;
      return args[0];
    }
    @stage.before() b(e: HookEvent<Stage>) {
      log.push(`before ${JSON.stringify(e.args[0])}`);
    }
    @stage.onError() e() {
      log.push('error');
    }
    @stage.after() a() {
      log.push('after');
    }
  }
  return { stage, Order, log };
}

/** Asserts that `call` threw (or rejected with) an InvalidTransitionInput naming the transition, with issues at `path`. */
function isInvalidInput(path: string) {
  return (e: unknown) => {
    assert.ok(e instanceof InvalidTransitionInput, `expected InvalidTransitionInput, got ${String(e)}`);
    assert.equal(e.name, 'InvalidTransitionInput');
    assert.equal(e.transition, 'place');
    assert.ok(Array.isArray(e.issues) && e.issues.length > 0, 'carries the schema issues');
    assert.ok(
      e.issues.some((i) => (i.path ?? []).map((p: PropertyKey | StandardSchemaV1.PathSegment) => String(typeof p === 'object' ? p.key : p)).join('.') === path),
      `an issue at ${path}: ${JSON.stringify(e.issues)}`,
    );
    assert.match(e.message, /place/);
    return true;
  };
}

describe('input with a zod schema', () => {
  const schema = z.object({
    quantity: z.coerce.number().int().positive(),
    note: z.string().trim().default(''),
  });

  test('the body receives the parsed value (coerced, trimmed, defaults filled); other arguments pass unchanged', () => {
    const { stage, Order, log } = orderFlow(schema);
    const order = new Order();
    const result = order.place({ quantity: '3', note: '  gift  ' }, 'second');
    assert.ok(!isPromise(result), 'a synchronous schema keeps the call synchronous');
    assert.deepEqual(order.received, [{ quantity: 3, note: 'gift' }, 'second']);
    assert.equal(stage.get(order), 'ordered');
    assert.deepEqual(log, ['before {"quantity":3,"note":"gift"}', 'body', 'after'], 'before hooks see the parsed value');

    const other = new Order();
    other.place({ quantity: 1 });
    assert.deepEqual(other.received, [{ quantity: 1, note: '' }]);
  });

  test('invalid input throws InvalidTransitionInput with the issues; nothing changed and no hook ran', () => {
    const { stage, Order, log } = orderFlow(schema);
    const order = new Order();
    assert.throws(() => order.place({ quantity: -2 }), isInvalidInput('quantity'));
    assert.equal(stage.get(order), 'cart');
    assert.deepEqual(order.writes, []);
    assert.deepEqual(log, []);
  });

  test('a missing first argument is validated too', () => {
    const { Order, log } = orderFlow(z.string());
    const order = new Order();
    assert.throws(() => order.place(), InvalidTransitionInput);
    assert.deepEqual(log, []);
  });

  test('an async schema (refine with an async check) makes the call return a promise', async () => {
    const taken = new Set(['alice']);
    const username = z
      .string()
      .trim()
      .refine(async (name) => {
        await Promise.resolve();
        return !taken.has(name);
      }, 'username taken');
    const { stage, Order, log } = orderFlow(username);

    const order = new Order();
    const call = order.place('  bob ');
    assert.ok(isPromise(call), 'the call returns a promise');
    assert.equal(stage.get(order), 'cart', 'nothing changes before the validation settles');
    assert.equal(await call, 'bob');
    assert.deepEqual(order.received, ['bob']);
    assert.equal(stage.get(order), 'ordered');

    log.length = 0;
    const refused = new Order();
    const failing = refused.place('alice');
    assert.ok(isPromise(failing));
    await assert.rejects(failing, (e: unknown) => {
      assert.ok(e instanceof InvalidTransitionInput);
      assert.match(e.issues[0]!.message, /username taken/);
      return true;
    });
    assert.equal(stage.get(refused), 'cart');
    assert.deepEqual(refused.writes, []);
    assert.deepEqual(log, []);
  });
});

describe('input with a valibot schema', () => {
  const schema = v.object({
    email: v.pipe(v.string(), v.trim(), v.toLowerCase(), v.email()),
    quantity: v.pipe(v.string(), v.transform(Number), v.number(), v.minValue(1)),
  });

  test('the body receives the transformed value', () => {
    const { stage, Order } = orderFlow(schema);
    const order = new Order();
    order.place({ email: '  Ann@Example.COM ', quantity: '2' });
    assert.deepEqual(order.received, [{ email: 'ann@example.com', quantity: 2 }]);
    assert.equal(stage.get(order), 'ordered');
  });

  test('invalid input throws InvalidTransitionInput with valibot issues; nothing changed and no hook ran', () => {
    const { stage, Order, log } = orderFlow(schema);
    const order = new Order();
    assert.throws(() => order.place({ email: 'not an email', quantity: '2' }), isInvalidInput('email'));
    assert.equal(stage.get(order), 'cart');
    assert.deepEqual(order.writes, []);
    assert.deepEqual(log, []);
  });

  test('an async valibot schema makes the call return a promise', async () => {
    const schemaAsync = v.pipeAsync(
      v.string(),
      v.checkAsync(async (s) => s.length > 2, 'too short'),
    );
    const { stage, Order } = orderFlow(schemaAsync);
    const order = new Order();
    const call = order.place('abc');
    assert.ok(isPromise(call));
    assert.equal(await call, 'abc');
    assert.equal(stage.get(order), 'ordered');

    const short = new Order();
    await assert.rejects(short.place('ab') as Promise<unknown>, InvalidTransitionInput);
    assert.equal(stage.get(short), 'cart');
  });
});

describe('input and the rest of the call', () => {
  test('a flow class without hooks validates and replaces the input too', () => {
    const stage = new State(STAGES, { default: 'cart' });
    class Plain {
      received: unknown;
      @stage.transition({ source: 'cart', target: 'ordered', input: z.coerce.number() }) place(n: unknown) {
        this.received = n;
      }
    }
    const plain = new Plain();
    plain.place('7');
    assert.equal(plain.received, 7);
    const bad = new Plain();
    assert.throws(() => bad.place('seven'), InvalidTransitionInput);
    assert.equal(stage.get(bad), 'cart');
  });

  test('a refused call (wrong source) is TransitionNotAllowed, not an input error: the source is checked first', () => {
    const { Order } = orderFlow(z.number());
    const order = new Order();
    order.place(1);
    assert.throws(() => order.place('not a number'), { name: 'TransitionNotAllowed' });
  });

  test('a schema that is not a Standard Schema is a TypeError when the class is defined', () => {
    const stage = new State(STAGES, { default: 'cart' });
    assert.throws(() => {
      class Bad {
        @stage.transition({ source: 'cart', target: 'ordered', input: { parse() {} } as never }) place() {}
      }
      void Bad;
    }, TypeError);
  });
});

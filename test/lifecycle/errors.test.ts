/**
 * One rule for errors (README, Errors): a transition whose method is declared `async` reports every
 * error as a rejection, refusals included; a plain sync transition throws. Each case runs on a
 * fresh class twice, cold (the method's first call) and warm (after a successful call), and on a
 * class without hooks and one with a hook (the general path), so every path of the runtime is met.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as z from 'zod';
import { InvalidTransitionInput, State, TransitionNotAllowed, actingAs } from 'transitional';
import { isPromise } from './support.ts';

const phase = new State(['draft', 'open', 'closed'] as const, { default: 'draft', name: 'phase' });
type Phase = (typeof phase.values)[number];

/** A flow with the same transitions declared `async` and not; `hooked` adds a do-nothing hook. */
function docClass(hooked: boolean) {
  class Doc {
    value: unknown = 'draft';
    title = 'ok';
    readonly writes: unknown[] = [];
    @phase.getter() g() { return this.value as Phase; }
    @phase.setter() s(v: Phase) { this.writes.push(v); this.value = v; }

    @phase.transition({ source: 'draft', target: 'open' }) async openAsync() { return 'opened'; }
    @phase.transition({ source: 'draft', target: 'open' }) openSync() { return 'opened'; }

    @phase.transition({ source: 'draft', target: 'open', conditions: [(d: Doc) => d.title !== ''] }) async guardedAsync() {}
    @phase.transition({ source: 'draft', target: 'open', conditions: [(d: Doc) => d.title !== ''] }) guardedSync() {}

    @phase.transition({ source: 'draft', target: 'open', input: z.string().min(1) }) async namedAsync(_name: string) {}
    @phase.transition({ source: 'draft', target: 'open', input: z.string().min(1) }) namedSync(_name: string) {}

    @phase.transition({ source: 'draft', target: 'open', permission: (_d: Doc, user: string) => user === 'ann' }) async ownedAsync() {}
    @phase.transition({ source: 'draft', target: 'open', permission: (_d: Doc, user: string) => user === 'ann' }) ownedSync() {}

    @phase.transition({ source: State.ANY, target: 'closed' }) async trashAsync() {}
    @phase.transition({ source: State.ANY, target: 'closed' }) trashSync() {}
  }
  if (!hooked) return Doc;
  class HookedDoc extends Doc {
    @phase.after() noop() {}
  }
  return HookedDoc;
}
type Doc = InstanceType<ReturnType<typeof docClass>>;

/** What a call did: threw synchronously, returned a promise that rejected, or returned. */
async function outcome(call: () => unknown): Promise<{ how: 'throw' | 'reject' | 'return'; error?: unknown }> {
  let result: unknown;
  try {
    result = call();
  } catch (error) {
    return { how: 'throw', error };
  }
  if (!isPromise(result)) return { how: 'return' };
  try {
    await result;
    return { how: 'return' };
  } catch (error) {
    return { how: 'reject', error };
  }
}

/** The refusals and errors that happen before anything changes, by the pair of methods that meet them. */
const cases: ReadonlyArray<{ what: string; pair: ['openAsync' | 'guardedAsync' | 'namedAsync' | 'ownedAsync' | 'trashAsync', string]; set: (doc: Doc) => void; call: (doc: Doc, name: string) => unknown; is: (e: unknown) => boolean }> = [
  { what: 'TransitionNotAllowed (source)', pair: ['openAsync', 'openSync'], set: (d) => (d.value = 'closed'), call: (d, n) => (d as any)[n](), is: (e) => e instanceof TransitionNotAllowed && e.reason === 'source' },
  { what: 'TransitionNotAllowed (condition)', pair: ['guardedAsync', 'guardedSync'], set: (d) => (d.title = ''), call: (d, n) => (d as any)[n](), is: (e) => e instanceof TransitionNotAllowed && e.reason === 'condition' },
  { what: 'InvalidTransitionInput', pair: ['namedAsync', 'namedSync'], set: () => {}, call: (d, n) => (d as any)[n](''), is: (e) => e instanceof InvalidTransitionInput },
  { what: 'TransitionNotAllowed (permission, inside actingAs)', pair: ['ownedAsync', 'ownedSync'], set: () => {}, call: (d, n) => actingAs('bob', () => (d as any)[n]()), is: (e) => e instanceof TransitionNotAllowed && e.reason === 'permission' },
  { what: 'a TypeError for an undeclared value', pair: ['openAsync', 'openSync'], set: (d) => (d.value = 'lost'), call: (d, n) => (d as any)[n](), is: (e) => e instanceof TypeError && /"lost"/.test((e as Error).message) },
  { what: 'a TypeError for an undeclared value (State.ANY)', pair: ['trashAsync', 'trashSync'], set: (d) => (d.value = 'lost'), call: (d, n) => (d as any)[n](), is: (e) => e instanceof TypeError && /"lost"/.test((e as Error).message) },
];

for (const hooked of [false, true]) {
  describe(`one rule for errors (${hooked ? 'a class with hooks' : 'a class without hooks'})`, () => {
    for (const c of cases) {
      for (const warm of [false, true]) {
        test(`${c.what}, ${warm ? 'warm' : 'cold'}: rejected by the async method, thrown by the sync one; nothing changes`, async () => {
          const Doc = docClass(hooked);
          for (const [name, expected] of [[c.pair[0], 'reject'], [c.pair[1], 'throw']] as const) {
            if (warm) {
              const ready = new Doc();
              const args = name.startsWith('named') ? ['ann'] : [];
              await actingAs('ann', () => (ready as any)[name](...args));
              assert.equal(ready.value, name.startsWith('trash') ? 'closed' : 'open', `${name} works when allowed`);
            }
            const doc = new Doc();
            c.set(doc);
            const before = doc.value;
            const got = await outcome(() => c.call(doc, name));
            assert.equal(got.how, expected, `${name}() should ${expected}, it did ${got.how} (${String(got.error)})`);
            assert.ok(c.is(got.error), `${name}(): unexpected error ${String(got.error)}`);
            assert.equal(doc.value, before);
            assert.deepEqual(doc.writes, []);
          }
        });
      }
    }
  });
}

describe('one rule for errors: more cases', () => {
  test('an async method chained from a sync body still rejects (the chain decides nothing)', async () => {
    const s = new State(['a', 'b', 'c'] as const, { default: 'a' });
    class Flow {
      inner: Promise<unknown> | undefined;
      @s.transition({ source: 'a', target: 'b' }) go() {
        this.inner = this.later();
        this.inner.catch(() => {});
      }
      @s.transition({ source: 'c', target: 'a' }) async later() {}
    }
    for (let i = 0; i < 2; i++) {
      const flow = new Flow();
      flow.go();
      await assert.rejects(flow.inner!, TransitionNotAllowed);
      assert.equal(s.get(flow), 'b');
    }
  });

  test('an async method whose before hook throws synchronously rejects; a sync one throws', async () => {
    const s = new State(['a', 'b'] as const, { default: 'a' });
    class Flow {
      @s.transition({ source: 'a', target: 'b' }) async goAsync() {}
      @s.transition({ source: 'a', target: 'b' }) goSync() {}
      @s.before() veto() {
        throw new Error('vetoed');
      }
    }
    for (let i = 0; i < 2; i++) {
      const flow = new Flow();
      const call = flow.goAsync();
      assert.ok(isPromise(call));
      await assert.rejects(call, /vetoed/);
      assert.throws(() => flow.goSync(), /vetoed/);
      assert.equal(s.get(flow), 'a');
    }
  });

  test('a queued async call that is refused at its turn rejects too', async () => {
    const s = new State(['a', 'b', 'c'] as const, { default: 'a' });
    let release!: () => void;
    class Flow {
      @s.transition({ source: 'a', target: 'b' }) async slow() {
        await new Promise<void>((r) => (release = r));
      }
      @s.transition({ source: 'a', target: 'c' }) async other() {}
    }
    const flow = new Flow();
    const first = flow.slow();
    const second = flow.other();
    release();
    await first;
    await assert.rejects(second, (e: unknown) => e instanceof TransitionNotAllowed && e.state === 'b');
  });
});

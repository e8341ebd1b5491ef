/**
 * Edge cases, warm. A method's first call runs on the general path (it probes whether the body
 * returns promises); only later calls of a class without hooks take the inlined fast path
 * (src/runtime/wrapper.ts). Every case here runs on a fresh class twice: cold (the edge case is the
 * method's first call) and warm (the method has succeeded before), and both must behave alike.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State, TransitionNotAllowed } from 'transitional';

const phase = new State(['draft', 'open', 'closed', 'failed'] as const, { default: 'draft', name: 'phase' });
type Phase = (typeof phase.values)[number];

function docClass() {
  class Doc {
    value: unknown = undefined;
    readonly writes: unknown[] = [];
    failWrite: ((v: unknown) => boolean) | undefined;
    failRead = false;
    title = 'ok';
    @phase.getter() g() {
      if (this.failRead) throw new RangeError('cannot read');
      return this.value as Phase;
    }
    @phase.setter() s(v: Phase) {
      if (this.failWrite?.(v)) throw new RangeError(`cannot write ${v}`);
      this.writes.push(v);
      this.value = v;
    }
    @phase.transition({ source: State.ANY, target: 'closed' }) trash() {}
    @phase.transition({ source: 'draft', target: 'open' }) open(fail?: Error) {
      if (fail) throw fail;
      return 'opened';
    }
    @phase.transition({ source: 'draft', target: 'open', onError: 'failed' }) risky(fail?: Error) {
      if (fail) throw fail;
    }
    /** No target: when it chains `open` and then throws, the chain is undone. */
    @phase.transition({ source: 'draft' }) prepare(fail?: Error) {
      this.open();
      if (fail) throw fail;
    }
    @phase.transition({ source: 'draft', target: 'open', conditions: [(d: Doc) => { if (d.title === 'boom') throw new SyntaxError('condition broke'); return d.title !== ''; }] })
    guarded() {}
    @phase.transition({ source: 'draft', target: 'open', conditions: [(() => Promise.resolve(true)) as never] })
    promised() {}
  }
  return Doc;
}
type Doc = InstanceType<ReturnType<typeof docClass>>;

/** A fresh class; warm: `name` has run successfully once already (from `draft`). */
function fresh(warm: boolean, name: keyof Doc & string): Doc {
  const Doc = docClass();
  if (warm) (new Doc() as any)[name]();
  return new Doc();
}

for (const warm of [false, true]) {
  describe(`edge cases, ${warm ? 'warm (the fast path)' : 'cold (a first call)'}`, () => {
    test('State.ANY on an undeclared value: a TypeError naming it, nothing written', () => {
      const doc = fresh(warm, 'trash');
      doc.value = 'lost';
      assert.throws(() => doc.trash(), (e: unknown) => e instanceof TypeError && /"lost"/.test(e.message));
      assert.equal(doc.value, 'lost');
      assert.deepEqual(doc.writes, []);
    });

    test('State.ANY from a declared value, null and undefined (the default) goes through', () => {
      for (const value of ['open', null, undefined]) {
        const doc = fresh(warm, 'trash');
        doc.value = value;
        doc.trash();
        assert.equal(doc.value, 'closed');
      }
    });

    test('a sourced transition on an undeclared value: a TypeError, not TransitionNotAllowed', () => {
      const doc = fresh(warm, 'open');
      doc.value = 'lost';
      assert.throws(() => doc.open(), (e: unknown) => e instanceof TypeError && !(e instanceof TransitionNotAllowed) && /"lost"/.test(e.message));
      assert.deepEqual(doc.writes, []);
    });

    test('a wrong source: TransitionNotAllowed with the state and reason', () => {
      const doc = fresh(warm, 'open');
      doc.value = 'closed';
      assert.throws(() => doc.open(), (e: unknown) => e instanceof TransitionNotAllowed && e.state === 'closed' && e.reason === 'source');
    });

    test('a getter that throws: its error, nothing written', () => {
      const doc = fresh(warm, 'open');
      doc.failRead = true;
      assert.throws(() => doc.open(), RangeError);
      assert.deepEqual(doc.writes, []);
    });

    test('a setter that throws on the target write: its error, the body does not run', () => {
      const doc = fresh(warm, 'open');
      doc.failWrite = (v) => v === 'open';
      assert.throws(() => doc.open(), /cannot write open/);
      assert.equal(doc.value, undefined);
    });

    test('a body that throws: the source is written back, the same error is rethrown', () => {
      const doc = fresh(warm, 'open');
      const error = new Error('body broke');
      assert.throws(() => doc.open(error), (e) => e === error);
      assert.deepEqual(doc.writes, ['open', 'draft']);
    });

    test('a setter that also fails the rollback write: the body\'s error wins, the state stays', () => {
      const doc = fresh(warm, 'open');
      doc.failWrite = (v) => v === 'draft';
      const error = new Error('body broke');
      assert.throws(() => doc.open(error), (e) => e === error);
      assert.equal(doc.value, 'open');
    });

    test('onError: a throw moves to the error value', () => {
      const doc = fresh(warm, 'risky');
      assert.throws(() => doc.risky(new Error('no')), /no/);
      assert.equal(doc.value, 'failed');
    });

    test('a transition without target that chained a call and then throws: the chain is undone', () => {
      const doc = fresh(warm, 'prepare');
      assert.throws(() => doc.prepare(new Error('abort')), /abort/);
      assert.equal(doc.value, 'draft');
      const ok = fresh(warm, 'prepare');
      ok.prepare();
      assert.equal(ok.value, 'open');
    });

    test('a failing condition refuses; one that throws passes its error on; nothing written', () => {
      const doc = fresh(warm, 'guarded');
      doc.title = '';
      assert.throws(() => doc.guarded(), (e: unknown) => e instanceof TransitionNotAllowed && e.reason === 'condition');
      doc.title = 'boom';
      assert.throws(() => doc.guarded(), SyntaxError);
      assert.deepEqual(doc.writes, []);
    });

    test('a condition that returns a promise: a TypeError saying conditions are synchronous', () => {
      const Doc = docClass();
      const doc = new Doc();
      for (let i = 0; i < 2; i++) assert.throws(() => doc.promised(), /returned a promise; conditions must synchronously return/);
      assert.deepEqual(doc.writes, []);
    });
  });
}

test('a subclass with hooks and its plain parent, called in turns, each keep their own path', () => {
  const Doc = docClass();
  const seen: string[] = [];
  class Hooked extends Doc {
    @phase.before() b() {
      seen.push('before');
    }
  }
  for (let i = 0; i < 3; i++) {
    const plain = new Doc();
    plain.open();
    const hooked = new Hooked();
    hooked.open();
    plain.value = 'lost';
    hooked.value = 'lost';
    assert.throws(() => plain.trash(), TypeError);
    assert.throws(() => hooked.trash(), TypeError);
  }
  assert.deepEqual(seen, ['before', 'before', 'before']);
});

/**
 * Chaining (README, Chaining): the state changes before the body, so a body may call the next
 * transition; if the outer body then throws, the whole chain is undone.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State, TransitionNotAllowed } from 'transitional';
import { thrown } from './fixtures.ts';

const mail = new State(['draft', 'sending', 'sent', 'failed', 'archived'] as const, { default: 'draft', name: 'mail' });
type Mail = (typeof mail.values)[number];

type Plan = 'complete' | 'fail' | 'archive' | 'complete-then-throw' | 'complete-then-archive-then-throw' | 'swallow-inner-failure';

class Email {
  value: Mail | undefined = undefined;
  readonly writes: Mail[] = [];

  @mail.getter() read() { return this.value; }
  @mail.setter() write(v: Mail) { this.writes.push(v); this.value = v; }

  @mail.transition({ source: 'draft', target: 'sending' })
  send(plan: Plan) {
    switch (plan) {
      case 'complete':
        return this.complete();
      case 'fail':
        return this.fail();
      case 'archive':
        return this.archive(); // refused: archive starts from 'sent'
      case 'complete-then-throw':
        this.complete();
        throw new Error('outer failed after the chain');
      case 'complete-then-archive-then-throw':
        this.complete(true);
        throw new Error('outer failed after a two-step chain');
      case 'swallow-inner-failure':
        try {
          this.complete(false, true);
        } catch {
          // the inner call rolled itself back to 'sending'; the outer call goes on
        }
        return mail.get(this);
    }
  }

  @mail.transition({ source: 'sending', target: 'sent' })
  complete(thenArchive = false, fail = false) {
    if (thenArchive) this.archive();
    if (fail) throw new Error('inner failed');
    return 'completed';
  }

  @mail.transition({ source: 'sending', target: 'failed' })
  fail() {
    return 'failed';
  }

  @mail.transition({ source: 'sent', target: 'archived' })
  archive() {}
}

describe('a body calling the next transition', () => {
  test('runs the chained transition from the outer target', () => {
    const email = new Email();
    assert.equal(email.send('complete'), 'completed');
    assert.equal(email.value, 'sent');
    assert.deepEqual(email.writes, ['sending', 'sent']);
  });

  test('either branch of the chain', () => {
    const email = new Email();
    assert.equal(email.send('fail'), 'failed');
    assert.equal(email.value, 'failed');
  });

  test('an outer body that throws after a successful chained call undoes the whole chain', () => {
    const email = new Email();
    assert.throws(() => email.send('complete-then-throw'), /outer failed after the chain/);
    assert.equal(email.value, 'draft');
    assert.equal(mail.get(email), 'draft');
    assert.deepEqual(email.writes, ['sending', 'sent', 'draft']);
  });

  test('a chain of three is undone to the outermost source', () => {
    const email = new Email();
    assert.throws(() => email.send('complete-then-archive-then-throw'), /two-step chain/);
    assert.equal(email.value, 'draft');
    assert.deepEqual(email.writes.at(-1), 'draft');
  });

  test('a chained call that is refused propagates and rolls back the outer transition', () => {
    const email = new Email();
    const e = thrown(() => email.send('archive'));
    assert.ok(e instanceof TransitionNotAllowed);
    assert.equal(e.transition, 'archive');
    assert.equal(e.state, 'sending');
    assert.equal(e.reason, 'source');
    assert.equal(email.value, 'draft');
    assert.deepEqual(email.writes, ['sending', 'draft']);
  });

  test('an inner failure caught by the outer body leaves the outer target in place', () => {
    const email = new Email();
    assert.equal(email.send('swallow-inner-failure'), 'sending');
    assert.equal(email.value, 'sending');
    assert.deepEqual(email.writes, ['sending', 'sent', 'sending']);
  });

  test('after an undone chain, the flow works normally again', () => {
    const email = new Email();
    assert.throws(() => email.send('complete-then-throw'));
    email.send('complete');
    email.archive();
    assert.equal(email.value, 'archived');
  });
});

describe('chaining across two States (the general path)', () => {
  const ready = new State(['no', 'yes'] as const, { default: 'no', name: 'ready' });
  type Ready = (typeof ready.values)[number];

  class Job {
    mailValue: Mail | undefined = undefined;
    readyValue: Ready | undefined = undefined;

    @mail.getter() gm() { return this.mailValue; }
    @mail.setter() sm(v: Mail) { this.mailValue = v; }
    @ready.getter() gr() { return this.readyValue; }
    @ready.setter() sr(v: Ready) { this.readyValue = v; }

    @mail.transition({ source: 'draft', target: 'sending' })
    @ready.transition({ source: 'no', target: 'yes' })
    start(throwAfter: boolean) {
      this.finish();
      if (throwAfter) throw new Error('start failed');
    }

    @mail.transition({ source: 'sending', target: 'sent' })
    finish() {}
  }

  test('the chained call runs from both targets', () => {
    const job = new Job();
    job.start(false);
    assert.equal(job.mailValue, 'sent');
    assert.equal(job.readyValue, 'yes');
  });

  test('an outer throw undoes the chain on both States', () => {
    const job = new Job();
    assert.throws(() => job.start(true), /start failed/);
    assert.equal(job.mailValue, 'draft');
    assert.equal(job.readyValue, 'no');
  });
});

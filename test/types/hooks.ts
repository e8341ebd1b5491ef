/**
 * Type-level tests for hooks: decorated hook methods and `s.hook(...)` receive a `HookEvent` of
 * the State's values and the flow class. Compiled, not run.
 */

import { State, type HookEvent } from 'transitional';
import type { Equal, Expect } from './type-assert.ts';

const letters = new State(['a', 'b'] as const, { default: 'a' });
const numbers = new State([0, 1] as const, { default: 0 });

class Other {
  other = true;
}

/** Correct usage: compiles without any directive. */
export class Accepted {
  log: string[] = [];

  @letters.transition({ source: 'a', target: 'b' })
  go(n: number) {
    return n;
  }

  @letters.before() before(event: HookEvent<'a' | 'b', Accepted>) {
    this.log.push(`${event.transition} ${event.source} ${event.target} ${event.args.length}`);
    event.args[0] = 2;
  }
  @letters.onSuccess({ order: 1 }) success(event: HookEvent<'a' | 'b'>) {
    this.log.push(String(event.result));
  }
  @letters.onError() error(event: HookEvent<'a' | 'b', Accepted>) {
    this.log.push(String(event.error));
  }
  @letters.after() after() {}
  // A hook may take a wider event: every value of the State is a StateValue.
  @letters.after() wide(event: HookEvent) {
    this.log.push(String(event.source));
  }
}

letters.hook(Accepted, 'before', (event) => {
  type Checks = [Expect<Equal<typeof event.flow, Accepted>>, Expect<Equal<typeof event.source, 'a' | 'b'>>, Expect<Equal<typeof event.target, 'a' | 'b'>>];
  event.flow.log.push('external');
});
letters.hook(Accepted, 'after', () => undefined, { order: -1 });

/** Each line after a directive must fail to compile. */
export class Rejected {
  // @ts-expect-error: the event is an object, not a number
  @letters.before() a(event: number) { return event; }

  // @ts-expect-error: an event of other values
  @letters.onSuccess() b(event: HookEvent<'x' | 'y'>) { return event; }

  // @ts-expect-error: an event of another State's values
  @letters.onError() c(event: HookEvent<0 | 1>) { return event; }

  // @ts-expect-error: an event narrower than the State's values
  @letters.after() d(event: HookEvent<'a'>) { return event; }

  // @ts-expect-error: a second required parameter is never given
  @letters.before() e(event: HookEvent<'a' | 'b'>, extra: string) { return [event, extra]; }

  // @ts-expect-error: string events for a numeric State
  @numbers.before() f(event: HookEvent<'0' | '1'>) { return event; }

  // @ts-expect-error: an event typed for another flow class
  @letters.before() g(event: HookEvent<'a' | 'b', Other>) { return event.flow.other; }
}

// @ts-expect-error: not a hook kind
letters.hook(Accepted, 'begin', () => undefined);
// @ts-expect-error: the event's values are 'a' | 'b'
letters.hook(Accepted, 'before', (event: HookEvent<'x'>) => event);
// @ts-expect-error: the event's flow is an Accepted
letters.hook(Accepted, 'before', (event: HookEvent<'a' | 'b', Other>) => event);
// @ts-expect-error: order is a number
letters.hook(Accepted, 'after', () => undefined, { order: 'first' });

// afterCommit hooks (README, Effects after commit): the same event, plus the `durable` option.
export class CommitHooks {
  @letters.transition({ source: 'a', target: 'b' }) go() {}
  @letters.transition({ source: 'b', target: 'a', after: 60_000 }) async back() {}
  @letters.afterCommit() a(event: HookEvent<'a' | 'b', CommitHooks>) { return event.attempt; }
  @letters.afterCommit({ durable: true, transitions: ['go'], order: 1 }) async b(event: HookEvent<'a' | 'b'>) { return event; }

  // @ts-expect-error: an event of other values
  @letters.afterCommit() c(event: HookEvent<'x'>) { return event; }
  // @ts-expect-error: durable is a boolean
  @letters.afterCommit({ durable: 'yes' }) d() {}
  // @ts-expect-error: a transition the class does not have
  @letters.afterCommit({ transitions: ['nope'] }) e() {}
}

export class CommitTimers {
  // @ts-expect-error: after is a number of milliseconds
  @letters.transition({ source: 'a', target: 'b', after: '1h' }) async go() {}
}

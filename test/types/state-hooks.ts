/**
 * Type-level tests for entry/exit hooks, `{ transitions }`, dynamic targets and labels: wrong
 * values and unknown transition names fail to compile. Compiled by `tsc -p tsconfig.json`
 * (standard decorators) and by `tsc -p test/legacy/tsconfig.json` (experimentalDecorators), not run.
 */

import { State, type HookEvent, type TransitionDefinition } from 'transitional';
import type { Equal, Expect } from './type-assert.ts';

const letters = new State(['a', 'b', 'c'] as const, { default: 'a', labels: { a: 'Start', c: 'End' } });
const numbers = new State([0, 1] as const, { default: 0, labels: { 0: 'Off', 1: 'On' } });

enum Stage {
  New = 'new',
  Done = 'done',
}
const stage = new State(Stage, { labels: { [Stage.New]: 'New', done: 'Done' } });

/** Correct usage: compiles without any directive. */
export class Accepted {
  limit = 1;

  @letters.transition({ source: 'a', target: (flow: Accepted, n: number) => (n > flow.limit ? 'b' : 'c'), targets: ['b', 'c'] })
  go(n: number) {
    return n;
  }

  @letters.transition({ source: 'b', target: (flow) => (flow.limit > 0 ? 'c' : 'a'), targets: ['a', 'c'], rewind: false })
  next() {}

  @letters.onEnter('b') enteredB(event: HookEvent<'a' | 'b' | 'c', Accepted>) {
    return event.target;
  }
  @letters.onEnter(['b', 'c'], { order: 1, transitions: ['go'] }) enteredBC() {}
  @letters.onExit('a', { transitions: ['go', 'next'] }) leftA(event: HookEvent<'a' | 'b' | 'c'>) {
    return event.source;
  }
  @letters.before({ transitions: ['go'] }) beforeGo() {}
  @letters.onSuccess({ transitions: ['next'] }) afterNext() {}
  @letters.onError({ order: 2 }) failed() {}
  @letters.after({ transitions: ['go', 'next'] }) always() {}
}

const remove = letters.hook(Accepted, 'onSuccess', (event) => event.flow.limit, { transitions: ['go'] });
letters.hook(Accepted, 'onError', () => undefined);
letters.hook(Accepted, 'success', () => undefined);
letters.hook(Accepted, 'error', () => undefined, { order: 1 });

const definition = letters.transitions(Accepted)[0]!;

export type Checks = [
  Expect<Equal<typeof remove, () => void>>,
  Expect<Equal<ReturnType<typeof letters.label>, string>>,
  Expect<Equal<Parameters<typeof letters.label>[0], 'a' | 'b' | 'c'>>,
  Expect<Equal<Parameters<typeof numbers.label>[0], 0 | 1>>,
  Expect<Equal<Parameters<typeof stage.label>[0], Stage.New | Stage.Done>>,
  Expect<Equal<typeof definition.targets, readonly ('a' | 'b' | 'c')[]>>,
  Expect<Equal<typeof definition, TransitionDefinition<'a' | 'b' | 'c'>>>,
];

/** Each line after a directive must fail to compile. */
export class Rejected {
  limit = 1;

  // @ts-expect-error: 'x' is not a value of letters
  @letters.onEnter('x') a() {}

  // @ts-expect-error: one of the values is not declared
  @letters.onExit(['a', 'x']) b() {}

  // @ts-expect-error: a value of another State
  @numbers.onEnter('a') c() {}

  // @ts-expect-error: the class has no transition (method) named 'nope'
  @letters.before({ transitions: ['nope'] }) d() {}

  // @ts-expect-error: the class has no method named 'missing'
  @letters.onEnter('b', { transitions: ['missing'] }) e() {}

  // @ts-expect-error: a targets value that is not declared
  @letters.transition({ source: 'a', target: () => 'b', targets: ['b', 'x'] }) f() {}

  // @ts-expect-error: the function returns a value that is not declared
  @letters.transition({ source: 'a', target: () => 'x', targets: ['b'] }) g() {}

  // @ts-expect-error: the function's flow parameter is of another class
  @letters.transition({ source: 'a', target: (flow: Accepted, n: string) => (n === '' ? 'b' : 'c'), targets: ['b', 'c'] }) h(n: number) { return n; }

  // @ts-expect-error: order is a number
  @letters.onEnter('b', { order: 'first' }) i() {}

  go() {}
}

// @ts-expect-error: a label for an undeclared value
new State(['a', 'b'] as const, { labels: { x: 'X' } });
// @ts-expect-error: labels are strings
new State(['a', 'b'] as const, { labels: { a: 1 } });
// @ts-expect-error: a label for a value of another enum
new State(Stage, { labels: { old: 'Old' } });
// @ts-expect-error: label of an undeclared value
letters.label('x');
// @ts-expect-error: not a hook kind
letters.hook(Accepted, 'onEnter', () => undefined);
// @ts-expect-error: Accepted has no method named 'nope'
letters.hook(Accepted, 'before', () => undefined, { transitions: ['nope'] });

/**
 * Type-level tests: the value type a State infers, and where a value that is not declared is a
 * compile error (options, questions). Compiled by `tsc -p tsconfig.json`, not run.
 */

import { State, type TargetFunction, type TransitionDefinition } from 'transitional';
import type { Equal, Expect } from './type-assert.ts';

enum Stage {
  New = 'new',
  Done = 'done',
}
enum Level {
  Low,
  High,
}

const stage = new State(Stage, { default: Stage.New });
const level = new State(Level, { default: Level.Low });
const letters = new State(['a', 'b'] as const);
const plainLetters = new State(['a', 'b']);
const numbers = new State([0, 1, 2] as const, { default: 0 });

const steps = ['draft', 'sent'] as const;
const fromConst = new State(steps);

// An enum State's value type is the union of the enum's members (assignable both ways to the enum
// itself; the strict Equal below tells the enum type and the union of its members apart).
export type ValueTypes = [
  Expect<Equal<typeof stage, State<Stage.New | Stage.Done>>>,
  // A numeric enum's reverse mapping (Level[0] === 'Low') is not a value.
  Expect<Equal<typeof level, State<Level.Low | Level.High>>>,
  Expect<Equal<typeof letters, State<'a' | 'b'>>>,
  // `as const` is not needed for a literal array written in place.
  Expect<Equal<typeof plainLetters, State<'a' | 'b'>>>,
  Expect<Equal<typeof numbers, State<0 | 1 | 2>>>,
  Expect<Equal<typeof fromConst, State<'draft' | 'sent'>>>,
];

// --- defaults -------------------------------------------------------------------------------

new State(['a', 'b'] as const, { default: 'b' });
new State(Level, { default: Level.High });
// @ts-expect-error: 'c' is not a value
new State(['a', 'b'] as const, { default: 'c' });
// @ts-expect-error: a string for a numeric enum
new State(Level, { default: 'Low' });
// @ts-expect-error: not a value of Stage
new State(Stage, { default: 'archived' });
// @ts-expect-error: 3 is not a value
new State([0, 1, 2] as const, { default: 3 });

// --- questions ------------------------------------------------------------------------------

declare const flow: { go(): void; count: number };

export type Questions = [
  Expect<Equal<ReturnType<typeof stage.get>, Stage.New | Stage.Done>>,
  Expect<Equal<ReturnType<typeof letters.get>, 'a' | 'b'>>,
  Expect<Equal<ReturnType<typeof level.get>, Level.Low | Level.High>>,
  Expect<Equal<ReturnType<typeof letters.transitions>, TransitionDefinition<'a' | 'b'>[]>>,
  Expect<Equal<ReturnType<typeof letters.available>, TransitionDefinition<'a' | 'b'>[]>>,
  Expect<Equal<ReturnType<typeof letters.waitFor>, Promise<'a' | 'b'>>>,
];

const defs = letters.transitions(class {});
const first = defs[0]!;
export type Definition = [
  Expect<Equal<typeof first.source, readonly ('a' | 'b')[] | typeof State.ANY>>,
  Expect<Equal<typeof first.target, 'a' | 'b' | TargetFunction<'a' | 'b'> | undefined>>,
  Expect<Equal<typeof first.targets, readonly ('a' | 'b')[]>>,
  Expect<Equal<typeof first.onError, 'a' | 'b' | undefined>>,
  Expect<Equal<typeof first.name, string>>,
  Expect<Equal<typeof first.label, string>>,
];

void letters.waitFor(flow, 'b');
void level.waitFor(flow, Level.High);
void stage.waitForAtLeast(flow, Stage.Done);
// @ts-expect-error: 'nope' is not a value
void letters.waitFor(flow, 'nope');
// @ts-expect-error: a numeric enum's member name is not a value
void level.waitFor(flow, 'High');
// @ts-expect-error: the string behind an enum member is not the enum
void stage.waitFor(flow, 'done');
// @ts-expect-error: 'nope' is not a value
void letters.waitForAtLeast(flow, 'nope');

letters.can(flow, 'go');
letters.hasPermission(flow, 'go', { id: 1 });
// @ts-expect-error: not a method of the flow
letters.can(flow, 'notAMethod');
// @ts-expect-error: a field, not a method
letters.can(flow, 'count');
// @ts-expect-error: not a method of the flow
letters.hasPermission(flow, 'notAMethod', { id: 1 });

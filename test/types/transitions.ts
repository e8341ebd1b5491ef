/**
 * Type-level tests for `@s.transition(...)`: every source, target and onError is checked against
 * the State's values, and conditions/permissions against the flow class and the method's
 * arguments. Compiled by `tsc -p tsconfig.json` (standard decorators) and by
 * `tsc -p test/legacy/tsconfig.json` (experimentalDecorators), not run.
 */

import { State } from 'transitional';
import { z } from 'zod';

enum Stage {
  New = 'new',
  Review = 'review',
  Done = 'done',
}
enum Level {
  Low,
  Mid,
  High,
}

const stage = new State(Stage, { default: Stage.New });
const level = new State(Level, { default: Level.Low });
const letters = new State(['a', 'b', 'c'] as const, { default: 'a' });
const numbers = new State([0, 1] as const, { default: 0 });

class Other {
  other = true;
}

/** Correct usage: compiles without any directive. */
export class Accepted {
  approver = '';

  @stage.transition({ source: Stage.New, target: Stage.Review, label: 'Send to review', meta: { icon: 'send' } })
  submit() {}

  @stage.transition({ source: [Stage.New, Stage.Review], target: Stage.Done, onError: Stage.Review })
  finish() {}

  @stage.transition({ source: State.ANY, target: Stage.New })
  reset() {}

  @stage.transition({ source: Stage.Review })
  comment(text: string) {
    return text;
  }

  @stage.transition({ source: Stage.Review, target: Stage.Done, conditions: [(flow: Accepted) => flow.approver !== '', () => ({ ok: false, reason: 'never' })] })
  approve() {}

  @stage.transition({ source: Stage.Review, target: Stage.Done, conditions: [(flow: Accepted, by: string) => by === flow.approver] })
  approveAs(by: string) {
    return by;
  }

  @stage.transition({ source: Stage.Review, target: Stage.Done, conditions: [(flow) => flow.approver !== ''] })
  approveUntyped() {}

  @stage.transition({ source: Stage.Review, target: Stage.Done, permission: (flow: Accepted, user: { admin: boolean }) => user.admin && flow.approver !== '' })
  force() {}

  @stage.transition({ source: Stage.Review, target: Stage.Done, input: z.object({ note: z.string() }) })
  annotate(input: { note: string }) {
    return input.note;
  }

  @stage.transition({ source: Stage.Done, target: Stage.Review })
  @stage.transition({ source: Stage.Review, target: Stage.Done })
  toggle() {}

  @level.transition({ source: Level.Low, target: Level.High, onError: Level.Mid })
  raise() {}

  @letters.transition({ source: ['a', 'b'], target: 'c' })
  @numbers.transition({ source: 0, target: 1 })
  both() {}

  @numbers.transition({ source: 1, target: 0 })
  back() {}
}

/**
 * A condition may declare any prefix of its method's parameters (README, "Transitions"): none,
 * the flow alone, or the flow and the first arguments.
 */
export class Prefixes {
  ready = true;

  @stage.transition({ source: Stage.New, target: Stage.Review, conditions: [(flow: Prefixes) => flow.ready] })
  go(note: string) {
    return note;
  }

  @stage.transition({ source: Stage.New, target: Stage.Review, conditions: [() => true] })
  noFlow(note: string, count: number) {
    return note.repeat(count);
  }

  @stage.transition({ source: Stage.New, target: Stage.Review, conditions: [(flow: Prefixes, note: string) => flow.ready && note !== ''] })
  firstOfTwo(note: string, count: number) {
    return note.repeat(count);
  }

  @stage.transition({ source: Stage.New, target: Stage.Review, conditions: [(flow: Prefixes, note: string, count: number) => flow.ready && note.length < count] })
  both(note: string, count: number) {
    return note.repeat(count);
  }

  @stage.transition({ source: Stage.New, target: Stage.Review, conditions: [(flow: Prefixes, note?: string) => flow.ready && note !== ''] })
  optional(note?: string, count = 1) {
    return (note ?? '').repeat(count);
  }

  @stage.transition({ source: Stage.New, target: Stage.Review, conditions: [(flow: Prefixes, note?: string) => flow.ready && note !== ''] })
  wider(note: string, count: number) {
    return note.repeat(count);
  }

  @stage.transition({ source: Stage.New, target: Stage.Review, conditions: [(flow) => flow.ready] })
  untyped(note: string) {
    return note;
  }

  @stage.transition({ source: Stage.New, target: Stage.Review, conditions: [(flow: Prefixes) => flow.ready, (flow: Prefixes) => !flow.ready] })
  twoShort(note: string) {
    return note;
  }

  @stage.transition({ source: Stage.New, target: Stage.Review, conditions: [(flow: Prefixes) => flow.ready, (flow: Prefixes, note: string) => note !== ''] })
  shortThenLong(note: string, count: number) {
    return note.repeat(count);
  }

  @stage.transition({ source: Stage.New, target: Stage.Review, conditions: [(flow: Prefixes, note: string) => note !== '', (flow: Prefixes) => flow.ready] })
  longThenShort(note: string) {
    return note;
  }

  @stage.transition({ source: Stage.New, target: Stage.Review, conditions: [(flow: Prefixes) => flow.ready], permission: (flow: Prefixes, user: string) => flow.ready && user !== '' })
  withPermission(note: string) {
    return note;
  }

  @stage.transition({ source: Stage.New, target: Stage.Review, conditions: [(flow: Prefixes) => flow.ready] })
  async later(note: string) {
    return note;
  }
}

export class AcceptedChild extends Accepted {
  @stage.inherit()
  override submit() {}

  @stage.transition({ source: Stage.Review, target: Stage.Done, conditions: [(flow: Accepted) => flow.approver !== ''] })
  override approve() {}
}

/** Each line after a directive must fail to compile (an unused directive is itself an error). */
export class Rejected {
  // @ts-expect-error: source not a value of the enum
  @stage.transition({ source: 'archived', target: Stage.Done }) a() {}

  // @ts-expect-error: the string behind a member is not the enum member
  @stage.transition({ source: 'new', target: Stage.Done }) b() {}

  // @ts-expect-error: one value of the source array is not declared
  @stage.transition({ source: [Stage.New, 'archived'], target: Stage.Done }) c() {}

  // @ts-expect-error: target not a value of the enum
  @stage.transition({ source: Stage.New, target: 'archived' }) d() {}

  // @ts-expect-error: onError not a value of the enum
  @stage.transition({ source: Stage.New, target: Stage.Done, onError: 'failed' }) e() {}

  // @ts-expect-error: State.ANY is a source, never a target
  @stage.transition({ source: Stage.New, target: State.ANY }) f() {}

  // @ts-expect-error: State.ANY is a source, never an onError state
  @stage.transition({ source: Stage.New, target: Stage.Done, onError: State.ANY }) g() {}

  // @ts-expect-error: a value of another State
  @stage.transition({ source: Level.Low, target: Stage.Done }) h() {}

  // @ts-expect-error: literal State, source not declared
  @letters.transition({ source: 'z', target: 'a' }) i() {}

  // @ts-expect-error: literal State, target not declared
  @letters.transition({ source: 'a', target: 'z' }) j() {}

  // @ts-expect-error: literal State, onError not declared
  @letters.transition({ source: 'a', target: 'b', onError: 'z' }) k() {}

  // @ts-expect-error: numeric enum, number that is not a member
  @level.transition({ source: Level.Low, target: 7 }) l() {}

  // @ts-expect-error: numeric enum, a member's name is not a value
  @level.transition({ source: 'Low', target: Level.High }) m() {}

  // @ts-expect-error: numeric literal State, 2 is not declared
  @numbers.transition({ source: 0, target: 2 }) n() {}

  // @ts-expect-error: a numeric literal State does not take its values as strings
  @numbers.transition({ source: '0', target: 1 }) o() {}

  // @ts-expect-error: the source is required
  @stage.transition({ target: Stage.Done }) p() {}

  // @ts-expect-error: a condition must return a boolean or { ok, reason }
  @stage.transition({ source: Stage.New, target: Stage.Done, conditions: [() => 'yes'] }) q() {}

  // @ts-expect-error: the condition's extra parameter does not match the method's argument
  @stage.transition({ source: Stage.New, target: Stage.Done, conditions: [(flow: Rejected, n: number) => n > 0] }) r(name: string) { return name; }

  // @ts-expect-error: a condition written for another flow class
  @stage.transition({ source: Stage.New, target: Stage.Done, conditions: [(flow: Other) => flow.other] }) s() {}

  // @ts-expect-error: a permission written for another flow class
  @stage.transition({ source: Stage.New, target: Stage.Done, permission: (flow: Other) => flow.other }) t() {}

  // @ts-expect-error: a prefix condition whose parameter does not match the method's first one
  @stage.transition({ source: Stage.New, target: Stage.Done, conditions: [(flow: Rejected, n: number) => n > 0] }) r2(name: string, count: number) { return name.repeat(count); }

  // @ts-expect-error: the second parameter does not match the method's second one
  @stage.transition({ source: Stage.New, target: Stage.Done, conditions: [(flow: Rejected, name: string, n: string) => n === name] }) r3(name: string, count: number) { return name.repeat(count); }

  // @ts-expect-error: conditions of different lengths, the longer one does not match the method
  @stage.transition({ source: Stage.New, target: Stage.Done, conditions: [(flow: Rejected) => flow !== undefined, (flow: Rejected, n: number) => n > 0] }) r4(name: string) { return name; }

  // @ts-expect-error: a prefix condition written for another flow class
  @stage.transition({ source: Stage.New, target: Stage.Done, conditions: [(flow: Other) => flow.other] }) s2(name: string) { return name; }

  // @ts-expect-error: a condition with the method's arguments, written for another flow class
  @stage.transition({ source: Stage.New, target: Stage.Done, conditions: [(flow: Other, name: string) => flow.other && name !== ''] }) s3(name: string) { return name; }

  // @ts-expect-error: input must be a Standard Schema
  @stage.transition({ source: Stage.New, target: Stage.Done, input: { parse: (x: unknown) => x } }) u() {}
}

/**
 * Type-level tests for `@s.getter()` and `@s.setter()`: the getter must return a value of the
 * State (or null/undefined), the setter must accept every value of the State. Compiled, not run.
 */

import { State } from 'transitional';

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
const letters = new State(['a', 'b'] as const, { default: 'a' });

interface Host {
  stage?: Stage;
  level: Level | null;
  letter: 'a' | 'b' | undefined;
  text: string;
  count: number;
}

/** Correct usage: compiles without any directive. */
export class Accepted {
  constructor(readonly host: Host) {}

  @stage.getter() getStage() {
    return this.host.stage;
  }
  @stage.setter() setStage(value: Stage) {
    this.host.stage = value;
  }

  @level.getter() getLevel() {
    return this.host.level;
  }
  // A setter may accept more than the State's values.
  @level.setter() setLevel(value: number) {
    this.host.count = value;
  }

  @letters.getter() getLetter(): 'a' | 'b' | undefined {
    return this.host.letter;
  }
  @letters.setter() setLetter(value: string) {
    this.host.text = value;
  }
}

/** Each line after a directive must fail to compile. */
export class Rejected {
  constructor(readonly host: Host) {}

  // @ts-expect-error: a number getter for a string State
  @stage.getter() a(): number { return this.host.count; }

  // @ts-expect-error: a plain string is wider than the enum
  @stage.getter() b(): string { return this.host.text; }

  // @ts-expect-error: a plain string is wider than the literal values
  @letters.getter() c(): string { return this.host.text; }

  // (A plain `number` getter compiles: TypeScript lets any number stand for a numeric enum.)
  // @ts-expect-error: a string getter for a numeric enum
  @level.getter() d(): string { return this.host.text; }

  // @ts-expect-error: a getter of another State's values
  @letters.getter() e(): Stage | undefined { return this.host.stage; }

  // @ts-expect-error: the setter cannot take a string State's values
  @stage.setter() f(value: number) { this.host.count = value; }

  // @ts-expect-error: the setter takes only one of the two values
  @letters.setter() g(value: 'a') { this.host.letter = value; }

  // @ts-expect-error: the setter takes only one member of the enum
  @level.setter() h(value: Level.Low) { this.host.level = value; }

  // @ts-expect-error: the setter takes another State's values
  @stage.setter() i(value: 'a' | 'b') { this.host.letter = value; }
}

/**
 * What the internals need of a State: its values, their order, membership, and where a flow class
 * keeps its definitions and a flow its value. The public `State` facade (src/state.ts) implements it;
 * every module below the facade names this type instead, so none of them depends on the facade.
 */

import type { StateValue } from './errors.ts';

export interface StateSpec<V extends StateValue = StateValue> {
  /** A name for messages, diagrams and the CLI. */
  readonly name: string;
  /** The declared values, in declaration order. */
  readonly values: readonly V[];
  /** The value reported when the getter returns `undefined` or `null`. */
  readonly default: V | undefined;
  /** Declaration order is a total order (`rewind`, `waitForAtLeast`, skipped states). */
  readonly ordered: boolean;
  /** Where a class's definitions for this State live in its decorator metadata. */
  readonly key: symbol;
  /** Where the value lives on a flow whose class declares no accessors. */
  readonly slot: symbol;
  /** Whether `value` is one of the declared values. */
  has(value: unknown): value is V;
  /** The position of `value` in the declaration order (-1 if not declared). */
  indexOf(value: V): number;
  /** `State(name)`, for messages. */
  toString(): string;
}

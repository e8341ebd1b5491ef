/** Every error the library throws on purpose. Definition mistakes are plain `TypeError`s. */

import type { StandardSchemaV1 } from './standard-schema.ts';

export type StateValue = string | number;

/** Quotes a state value the way messages show it: strings quoted, numbers bare. */
export function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'symbol' ? value.toString() : String(value);
}

/**
 * Why a transition was refused: its source does not include the current state, its `permission`
 * refused the user it acts for (inside `actingAs`), or a condition failed.
 */
export type NotAllowedReason = 'source' | 'permission' | 'condition';

/**
 * A transition was called from a state it does not start from, by a user its `permission` refuses
 * (inside `actingAs`), or one of its conditions failed. Nothing changed.
 *
 * @example
 * try { flow.publish(); } catch (e) { if (e instanceof TransitionNotAllowed) console.log(e.transition, e.state, e.reason); }
 */
export class TransitionNotAllowed extends Error {
  override name = 'TransitionNotAllowed';
  constructor(
    /** The method name of the transition. */
    readonly transition: string,
    /** The state the flow was in. */
    readonly state: StateValue,
    /**
     * `'source'`: no transition of that name starts from `state`; `'permission'`: its `permission`
     * refused the acting user; `'condition'`: a condition failed.
     */
    readonly reason: NotAllowedReason,
    message: string,
    /** For `reason: 'condition'`: the failed condition's own explanation, if it gave one. */
    readonly detail?: string,
  ) {
    super(message);
  }
}

/**
 * The first argument of a transition with an `input` schema did not validate. Nothing changed.
 * `issues` are the schema's own (Standard Schema) issues.
 */
export class InvalidTransitionInput extends Error {
  override name = 'InvalidTransitionInput';
  constructor(
    readonly transition: string,
    readonly issues: ReadonlyArray<StandardSchemaV1.Issue>,
    message: string,
  ) {
    super(message);
  }
}

/** `waitFor(flow, value)` on an ordered state: the flow entered a later state, so `value` will not come. */
export class StateSkipped extends Error {
  override name = 'StateSkipped';
  constructor(
    /** The value that was waited for. */
    readonly skipped: StateValue,
    /** The later value the flow is in instead. */
    readonly state: StateValue,
    message: string,
  ) {
    super(message);
  }
}

/**
 * An `afterCommit` hook threw (or rejected) after its call's work was committed. Nothing is undone
 * and the call's outcome stands; the error is reported as a process warning
 * (`process.on('warning', (w) => { if (w instanceof AfterCommitError) ... })`), which Node prints to
 * stderr unless you listen.
 */
export class AfterCommitError extends Error {
  override name = 'AfterCommitError';
  constructor(
    /** The flow class name. */
    readonly flow: string,
    /** The transition whose committed change the hook ran for. */
    readonly transition: string,
    /** The hook (its method name, or `'a registered hook'`). */
    readonly hook: string,
    /** What the hook threw. */
    override readonly cause: unknown,
  ) {
    super(`${flow}.${transition}() was committed, but its afterCommit hook ${hook} failed: ${cause instanceof Error ? cause.message : String(cause)}. Nothing was undone.`, { cause });
  }
}

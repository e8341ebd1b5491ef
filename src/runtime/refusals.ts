/**
 * Steps 1 and 2 of a call (README, Transitions): which transition starts from the current state, and do
 * its conditions hold. Their failures are `TransitionNotAllowed` errors that say what to do next.
 */

import { show, TransitionNotAllowed, type StateValue } from '../core/errors.ts';
import { className, readState } from './access.ts';
import type { ClassRecord, Lane, TransitionDefinition } from '../core/definition.ts';

type Flow = Record<PropertyKey, any>;

/** The error for a call whose source does not match (a `TypeError` if the state is not even declared). */
export function refusal(flow: Flow, name: string, lane: Lane, rec: ClassRecord): Error {
  // Re-read through the checked reader so that an undeclared value gets its TypeError.
  let value: StateValue;
  try {
    value = readState(flow, rec, lane.state);
  } catch (e) {
    return e as Error;
  }
  const from = lane.defs.flatMap((d) => (Array.isArray(d.source) ? d.source.map(show) : ['any state']));
  return new TransitionNotAllowed(
    name,
    value,
    'source',
    `${className(flow)}.${name}() is not allowed from ${lane.state.name} ${show(value)}: it starts from ${from.join(', ')}.`,
  );
}

/** Checks a definition's conditions in order; throws `TransitionNotAllowed` for the first that fails. */
export function checkConditions(flow: Flow, def: TransitionDefinition, value: StateValue, args: ArrayLike<unknown>): void {
  const failure = failedCondition(flow, def, args);
  if (failure !== undefined) throw conditionRefusal(flow, def, value, failure);
}

/** The index and reason of the first failing condition, or `undefined` when all pass. */
export function failedCondition(flow: Flow, def: TransitionDefinition, args: ArrayLike<unknown>): { index: number; reason: string | undefined } | undefined {
  const conditions = def.conditions;
  for (let i = 0; i < conditions.length; i++) {
    const c = conditions[i]!;
    const r = args.length === 0 ? c(flow) : c(flow, ...Array.prototype.slice.call(args));
    if (r === true) continue;
    if (r === false) return { index: i, reason: undefined };
    if (r !== null && typeof r === 'object' && typeof r.ok === 'boolean') {
      if (r.ok) continue;
      return { index: i, reason: r.reason };
    }
    throw new TypeError(
      `${className(flow)}.${def.name}(): condition ${describeCondition(c, i)} returned ${typeof (r as any)?.then === 'function' ? 'a promise' : show(r)}; conditions must synchronously return a boolean or { ok, reason }.`,
    );
  }
  return undefined;
}

function describeCondition(c: Function, i: number): string {
  return c.name ? `#${i + 1} (${c.name})` : `#${i + 1}`;
}

function conditionRefusal(flow: Flow, def: TransitionDefinition, value: StateValue, failure: { index: number; reason: string | undefined }): TransitionNotAllowed {
  const c = def.conditions[failure.index]!;
  return new TransitionNotAllowed(
    def.name,
    value,
    'condition',
    `${className(flow)}.${def.name}() is not allowed from ${show(value)}: condition ${describeCondition(c, failure.index)} failed${
      failure.reason ? `: ${failure.reason}.` : c.name ? '.' : ' (a named function, or { ok: false, reason }, would say why).'
    }`,
    failure.reason,
  );
}

/**
 * The checks of a call before anything changes (README, Transitions): which transition starts from
 * the current state, does its `permission` allow the acting user (inside `actingAs`), and do its
 * conditions hold. Their failures are `TransitionNotAllowed` errors that say what to do next.
 */

import { show, TransitionNotAllowed, type StateValue } from '../core/errors.ts';
import { className, readState } from './access.ts';
import type { ClassRecord, Lane, TransitionDefinition } from '../core/definition.ts';
import { actingScope } from './acting.ts';

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

/**
 * Inside `actingAs`: throws `TransitionNotAllowed` (`'permission'`) when the definition's
 * `permission` does not return `true` for the acting user. Outside, permissions are not enforced.
 */
export function checkPermission(flow: Flow, def: TransitionDefinition, value: StateValue): void {
  const permission = def.permission;
  if (permission === undefined) return;
  const scope = actingScope();
  if (scope === undefined || permission(flow, scope.user) === true) return;
  throw new TransitionNotAllowed(
    def.name,
    value,
    'permission',
    `${className(flow)}.${def.name}() is not allowed from ${show(value)}: its permission${permission.name ? ` (${permission.name})` : ''} refuses the user it acts for (actingAs ${describeUser(scope.user)}).`,
  );
}

/** A short, safe description of a user for a message: never the whole object. */
function describeUser(user: unknown): string {
  if (user === undefined || user === null) return String(user);
  if (typeof user === 'string' || typeof user === 'number' || typeof user === 'bigint') return show(typeof user === 'bigint' ? String(user) : user);
  if (typeof user === 'object') {
    const id = (user as { id?: unknown }).id;
    const kind = (user.constructor as { name?: string } | undefined)?.name || 'object';
    return typeof id === 'string' || typeof id === 'number' ? `${kind} ${show(id)}` : `a ${kind}`;
  }
  return `a ${typeof user}`;
}

/** The permission (inside `actingAs`), then the conditions: what a call checks once its source matched. */
export function checkGuards(flow: Flow, def: TransitionDefinition, value: StateValue, args: ArrayLike<unknown>): void {
  checkPermission(flow, def, value);
  checkConditions(flow, def, value, args);
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

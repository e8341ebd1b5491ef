/**
 * Questions about flow classes and flows, read from the compiled definitions (README, Introspection):
 * the transitions of a class, and what a flow can do now.
 */

import { METADATA } from '../core/metadata.ts';
import { findDefinition, recordChain, type ClassRecord, type Plan, type TransitionDefinition } from '../core/definition.ts';
import { plansByWrapper as plans } from '../runtime/wrapper.ts';
import { className, readState, recordOf } from '../runtime/access.ts';
import { failedCondition } from '../runtime/refusals.ts';
import type { StateSpec } from '../core/state-spec.ts';
import type { StateValue } from '../core/errors.ts';

/** The plan behind `flowClass.prototype[name]`, if that method is a transition. */
export function planOf(prototype: object, name: string): Plan | undefined {
  const fn = (prototype as Record<string, unknown>)[name];
  return typeof fn === 'function' ? plans.get(fn) : undefined;
}

/** Every transition of `flowClass` for `state`, inherited ones included, in declaration order. */
export function transitionsOf(state: StateSpec<any>, flowClass: Function): TransitionDefinition[] {
  const rec = (flowClass as any)?.[METADATA]?.[state.key] as ClassRecord | undefined;
  if (!rec) return [];
  const chain = recordChain(flowClass, state);
  if (!chain.includes(rec)) chain.push(rec);
  const names = new Set<string>();
  for (const r of chain) for (const name of r.methods.keys()) names.add(name);
  const out: TransitionDefinition[] = [];
  for (const name of names) {
    // The prototype is the truth: a subclass may have replaced a transition by a plain method.
    const lane = planOf(flowClass.prototype, name)?.lanes.find((l) => l.state === state);
    if (lane) out.push(...lane.defs);
  }
  return out;
}

function planFor(state: StateSpec<any>, flow: object, name: string, fn: string): Plan {
  const plan = planOf(flow, name);
  if (!plan || !plan.lanes.some((l) => l.state === state)) {
    throw new TypeError(`${state}.${fn}(${className(flow)}, ${JSON.stringify(name)}): ${className(flow)}.${name} is not a ${state.name} transition.`);
  }
  return plan;
}

/**
 * The definitions a call of `plan` would use now, or `undefined` if some State refuses its source.
 * Reading the state throws as `State#get` does (an undeclared value is a broken flow, not a refusal).
 */
function current(plan: Plan, flow: object): { def: TransitionDefinition; value: StateValue }[] | undefined {
  const out = [];
  for (const lane of plan.lanes) {
    const value = readState(flow as never, recordOf(flow, lane.state), lane.state);
    const def = findDefinition(lane, value);
    if (!def) return undefined;
    out.push({ def, value });
  }
  return out;
}

/** Whether every condition holds for `args`; a condition that throws (or returns something else) counts as failing. */
function conditionsHold(flow: object, def: TransitionDefinition, args: readonly unknown[]): boolean {
  try {
    return failedCondition(flow as never, def, args) === undefined;
  } catch {
    return false;
  }
}

/** Whether `permission` allows `user`; one that throws counts as refusing. */
function allows(flow: object, def: TransitionDefinition, user: unknown): boolean {
  if (def.permission === undefined) return true;
  try {
    return def.permission(flow, user) === true;
  } catch {
    return false;
  }
}

export function can(state: StateSpec<any>, flow: object, name: string, args: readonly unknown[]): boolean {
  const plan = planFor(state, flow, name, 'can');
  const defs = current(plan, flow);
  return defs !== undefined && defs.every(({ def }) => conditionsHold(flow, def, args));
}

export function hasPermission(state: StateSpec<any>, flow: object, name: string, user: unknown): boolean {
  const plan = planFor(state, flow, name, 'hasPermission');
  const lane = plan.lanes.find((l) => l.state === state)!;
  const def = findDefinition(lane, readState(flow as never, recordOf(flow, state), state)) ?? lane.defs[0]!;
  return allows(flow, def, user);
}

export interface AvailableOptions {
  /** Present (even `undefined`, an anonymous user): only transitions whose `permission` allows this user. */
  readonly user?: unknown;
  /** The arguments the conditions are called with (none by default). */
  readonly args?: readonly unknown[];
}

export function available(state: StateSpec<any>, flow: object, options?: AvailableOptions): TransitionDefinition[] {
  const checkUser = options !== undefined && 'user' in options;
  const args = options?.args ?? [];
  if (!Array.isArray(args)) throw new TypeError(`${state}.available(${className(flow)}, { args }): args must be an array of the arguments to pass to the conditions.`);
  const out: TransitionDefinition[] = [];
  const seen = new Set<string>();
  for (const t of transitionsOf(state, flow.constructor)) {
    if (seen.has(t.name)) continue;
    seen.add(t.name);
    const plan = planOf(flow, t.name);
    if (!plan) continue;
    const defs = current(plan, flow);
    if (!defs || !defs.every(({ def }) => conditionsHold(flow, def, args))) continue;
    const mine = defs[plan.lanes.findIndex((l) => l.state === state)]!.def;
    if (checkUser && !allows(flow, mine, options!.user)) continue;
    out.push(mine);
  }
  return out;
}

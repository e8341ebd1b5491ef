/**
 * Reading and writing a flow's state: through the class's `@s.getter()`/`@s.setter()` methods, or the
 * State's private slot on the flow when the class declares none. Shared by the runtime, waiting and
 * introspection.
 */

import { METADATA } from './metadata.ts';
import { show, type StateValue } from './errors.ts';
import { type ClassRecord } from './definition.ts';
import { live } from './live.ts';
import { compileRecord } from './hooks.ts';
import type { State } from './state.ts';

type Flow = Record<PropertyKey, any>;


/** The class record that governs `flow` for `state`, with its hooks compiled. */
export function recordOf(flow: object, state: State<any>): ClassRecord {
  const meta = (flow.constructor as any)?.[METADATA];
  const rec = meta?.[state.key] as ClassRecord | undefined;
  if (rec === undefined) {
    throw new TypeError(`${className(flow)} has no definitions for ${state}: is it a flow class that uses this State?`);
  }
  if (rec.version !== live.hookVersion) compileRecord(rec, flow.constructor, className(flow));
  return rec;
}

/** The current value of `state` on `flow`: through the getter, else the private slot; `default` for null/undefined. */
export function readState(flow: Flow, rec: ClassRecord, state: State<any>): StateValue {
  const g = rec.getter;
  let value = g === undefined ? flow[state.slot] : flow[g]();
  if (value == null) value = state.default;
  if (!state.has(value)) throw undeclared(flow, state, value);
  return value;
}

export function writeState(flow: Flow, rec: ClassRecord, state: State<any>, value: StateValue): void {
  const s = rec.setter;
  if (s === undefined) flow[state.slot] = value;
  else flow[s](value);
}

function undeclared(flow: object, state: State<any>, value: unknown): TypeError {
  const how = value === undefined ? `has no value and ${state} has no default` : `is ${show(value)}, which ${state} does not declare`;
  return new TypeError(`${className(flow)}: the ${state.name} ${how} (declared: ${state.values.map(show).join(', ')}).`);
}

export function className(flow: object): string {
  return (flow.constructor as { name?: string } | undefined)?.name || 'flow';
}


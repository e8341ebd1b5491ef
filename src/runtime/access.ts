/**
 * Reading and writing a flow's state: through the class's `@s.getter()`/`@s.setter()` methods, or the
 * State's private slot on the flow when the class declares none. Shared by the runtime, waiting and
 * introspection.
 */

import { METADATA } from '../core/metadata.ts';
import { show, type StateValue } from '../core/errors.ts';
import { NO_RECORD, type ClassRecord, type Lane } from '../core/definition.ts';
import { live } from '../core/live.ts';
import { compileRecord } from './hooks.ts';
import type { StateSpec } from '../core/state-spec.ts';

type Flow = Record<PropertyKey, any>;

/** The class record that governs `flow` for `state`, with its hooks compiled. */
export function recordOf(flow: object, state: StateSpec<any>): ClassRecord {
  const meta = (flow.constructor as any)?.[METADATA];
  const rec = meta?.[state.key] as ClassRecord | undefined;
  if (rec === undefined) {
    throw new TypeError(`${className(flow)} has no definitions for ${state}: is it a flow class that uses this State?`);
  }
  if (rec.version !== live.hookVersion) compileRecord(rec, flow.constructor, className(flow));
  return rec;
}

/**
 * The record of the flow class `ctor` for the lane's State, remembered in the lane's one-entry
 * cache: the metadata objects it comes from are in V8's slow dictionary mode, so the hot path
 * reads them only when the class changes. `NO_RECORD` for a class without definitions.
 */
export function seeClass(lane: Lane, ctor: unknown): ClassRecord {
  const rec = ((ctor as any)?.[METADATA]?.[lane.state.key] as ClassRecord | undefined) ?? NO_RECORD;
  if (rec !== NO_RECORD && rec.version !== live.hookVersion) compileRecord(rec, ctor as Function, (ctor as Function | undefined)?.name || 'flow');
  lane.seenClass = ctor;
  lane.seenRecord = rec;
  return rec;
}

/** The class record for a call on the general path: `seeClass`'s cache, compiled, or the TypeError of `recordOf`. */
export function recordFor(lane: Lane, flow: Flow): ClassRecord {
  const ctor = flow.constructor;
  const rec = ctor === lane.seenClass ? lane.seenRecord : seeClass(lane, ctor);
  if (rec === NO_RECORD) return recordOf(flow, lane.state);
  if (rec.version !== live.hookVersion) compileRecord(rec, ctor, className(flow));
  return rec;
}

/** The current value of `state` on `flow`: through the getter, else the private slot; `default` for null/undefined. */
export function readState(flow: Flow, rec: ClassRecord, state: StateSpec<any>): StateValue {
  const g = rec.getter;
  let value = g === undefined ? flow[state.slot] : flow[g]();
  if (value == null) value = state.default;
  if (!state.has(value)) throw undeclared(flow, state, value);
  return value;
}

export function writeState(flow: Flow, rec: ClassRecord, state: StateSpec<any>, value: StateValue): void {
  const s = rec.setter;
  if (s === undefined) flow[state.slot] = value;
  else flow[s](value);
}

function undeclared(flow: object, state: StateSpec<any>, value: unknown): TypeError {
  const how = value === undefined ? `has no value and ${state} has no default` : `is ${show(value)}, which ${state} does not declare`;
  return new TypeError(`${className(flow)}: the ${state.name} ${how} (declared: ${state.values.map(show).join(', ')}).`);
}

export function className(flow: object): string {
  return (flow.constructor as { name?: string } | undefined)?.name || 'flow';
}


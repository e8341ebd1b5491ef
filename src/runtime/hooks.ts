/**
 * Lifecycle hooks (README, Hooks): registration, inheritance and order.
 *
 * Hooks are kept per class record, in registration order; `compileRecord` merges a class's hooks
 * with its ancestors' into four sorted lists the first time a call needs them (and again after any
 * registration, which bumps `hookVersion`). Order: `order` ascending; ties run parents' hooks first,
 * then in declaration order, decorated hooks before externally registered ones. `onEnter` hooks
 * are `onSuccess` hooks filtered by target, `onExit` hooks `before` hooks filtered by source, so
 * they take those places in the order.
 */

import {
  bumpHookVersion,
  isAsyncFunction,
  nextHookSeq,
  ownRecord,
  recordChain,
  type ClassRecord,
  type HookEntry,
  type HookKind,
} from '../core/definition.ts';
import { show, type StateValue } from '../core/errors.ts';
import { ownMetadata } from '../core/metadata.ts';
import { live } from '../core/live.ts';
import type { StateSpec } from '../core/state-spec.ts';

export const HOOK_KINDS: readonly HookKind[] = ['before', 'success', 'error', 'after', 'afterCommit'];

/** The kinds `s.hook()` accepts, and the internal kind each names (`'success'`, `'error'`: older aliases). */
const EXTERNAL_KINDS: Readonly<Record<string, HookKind>> = {
  before: 'before',
  onSuccess: 'success',
  onError: 'error',
  after: 'after',
  success: 'success',
  error: 'error',
};

export interface HookOptions<N extends string = string> {
  /** Lower runs first; default 0. */
  readonly order?: number;
  /** Only for these transitions (method names); default: every transition of the State. */
  readonly transitions?: readonly N[];
}

export interface AfterCommitOptions<N extends string = string> extends HookOptions<N> {
  /**
   * Recorded in the committing transaction and run by a worker (`startWorker`), with retries: a
   * crash right after the commit loses nothing. Persisted flows with a `flow` factory only.
   */
  readonly durable?: boolean;
}

/** Which calls a hook runs for, besides its kind: `onEnter`/`onExit` values. */
export interface HookFilter {
  readonly filter: 'enter' | 'exit';
  readonly values: readonly StateValue[];
}

export function addHook(
  rec: ClassRecord,
  kind: HookKind,
  target: { method: PropertyKey } | { fn: Function },
  options: HookOptions | undefined,
  external: boolean,
  where: string,
  filter?: HookFilter,
): HookEntry {
  const entry = hookEntry(kind, target, options, external, where, filter);
  rec.hooks.push(entry);
  bumpHookVersion();
  return entry;
}

function hookEntry(kind: HookKind, target: { method: PropertyKey } | { fn: Function }, options: HookOptions | undefined, external: boolean, where: string, filter: HookFilter | undefined): HookEntry {
  if (options !== undefined && (options === null || typeof options !== 'object')) throw new TypeError(`${where}: options must be an object ({ order?, transitions? }).`);
  const order = options?.order ?? 0;
  if (typeof order !== 'number' || !Number.isFinite(order)) throw new TypeError(`${where}: hook order must be a finite number, got ${String(order)}.`);
  const transitions = options?.transitions;
  if (transitions !== undefined && (!Array.isArray(transitions) || transitions.length === 0 || transitions.some((t) => typeof t !== 'string'))) {
    throw new TypeError(`${where}: transitions must be a non-empty array of transition (method) names, e.g. { transitions: ['publish'] }.`);
  }
  const durable = (options as AfterCommitOptions | undefined)?.durable;
  if (durable !== undefined && (typeof durable !== 'boolean' || kind !== 'afterCommit')) {
    throw new TypeError(`${where}: durable is an option of afterCommit hooks, and a boolean.`);
  }
  const fn = 'fn' in target ? target.fn : undefined;
  return {
    kind,
    durable: durable === true,
    filter: filter?.filter,
    values: filter === undefined ? undefined : new Set(filter.values),
    transitions: transitions === undefined ? undefined : new Set(transitions),
    // A decorated hook's function is only known through the prototype at call time: probe it.
    async: fn !== undefined && isAsyncFunction(fn),
    probed: fn !== undefined && isAsyncFunction(fn),
    order,
    method: 'method' in target ? target.method : undefined,
    fn,
    external,
    seq: nextHookSeq(),
  };
}

/**
 * `s.hook(FlowClass, kind, fn, { order, transitions })`: a hook registered from outside the class.
 * Returns a function that removes it (calls made afterwards no longer run it).
 */
export function registerExternalHook(state: StateSpec<any>, flowClass: Function, kind: string, fn: Function, options?: HookOptions): () => void {
  const where = `${state}.hook(${flowClass?.name || '?'}, ${JSON.stringify(kind)})`;
  if (typeof flowClass !== 'function') throw new TypeError(`${where}: the first argument must be a flow class.`);
  const internal = Object.prototype.hasOwnProperty.call(EXTERNAL_KINDS, kind) ? EXTERNAL_KINDS[kind] : undefined;
  if (internal === undefined) throw new TypeError(`${where}: kind must be one of "before", "onSuccess", "onError", "after" (or the older "success", "error").`);
  if (typeof fn !== 'function') throw new TypeError(`${where}: the hook must be a function.`);
  const entry = hookEntry(internal, { fn }, options, true, where, undefined);
  if (entry.transitions !== undefined) {
    const known = transitionNames(recordChain(flowClass, state));
    checkTransitions(entry, known, `${where}`, `${flowClass.name || 'the class'} (and its parents)`);
  }
  const rec = ownRecord(ownMetadata(flowClass), state);
  rec.hooks.push(entry);
  bumpHookVersion();
  return () => {
    const i = rec.hooks.indexOf(entry);
    if (i === -1) return;
    rec.hooks.splice(i, 1);
    bumpHookVersion();
  };
}

/** The transition names the records of a chain declare. */
function transitionNames(chain: readonly ClassRecord[]): Set<string> {
  const names = new Set<string>();
  for (const r of chain) for (const name of r.methods.keys()) names.add(name);
  return names;
}

function checkTransitions(hook: HookEntry, known: ReadonlySet<string>, where: string, owner: string): void {
  for (const name of hook.transitions ?? []) {
    if (!known.has(name)) {
      const list = [...known].join(', ') || 'none';
      throw new TypeError(`${where}: transitions lists ${show(name)}, which is not a transition of ${owner} (its transitions: ${list}).`);
    }
  }
}

/** How a decorated hook is named in messages. */
function hookName(hook: HookEntry, state: StateSpec<any>): string {
  if (hook.method === undefined) return `a hook registered with ${state}.hook()`;
  const decorator = hook.filter === 'enter' ? 'onEnter' : hook.filter === 'exit' ? 'onExit' : hook.kind === 'success' ? 'onSuccess' : hook.kind === 'error' ? 'onError' : hook.kind;
  return `@${state.name}.${decorator}() on ${String(hook.method)}()`;
}

/** What in a chain only works persisted: a timer (`after`) or a durable afterCommit hook, named for an error message. */
function storeOnly(chain: readonly ClassRecord[], hooks: ReadonlyArray<{ hook: HookEntry }>, state: StateSpec<any>): string | undefined {
  for (const r of chain) for (const [name, defs] of r.methods) if (defs.some((d) => d.after !== undefined)) return `the timer (after) of ${name}()`;
  const durable = hooks.find(({ hook }) => hook.durable);
  return durable === undefined ? undefined : hookName(durable.hook, state) + ' (durable)';
}

/**
 * Merges and sorts the hooks a class sees, and validates its accessors and the transition names
 * its hooks list. Runs once per class per change of any definition; `owner` names the flow class
 * in errors.
 */
export function compileRecord(rec: ClassRecord, ctor: Function | undefined, owner: string): void {
  let chain = recordChain(ctor, rec.state);
  if (!chain.includes(rec)) {
    chain = [];
    for (let r: ClassRecord | undefined = rec; r; r = r.parent) chain.unshift(r);
  }
  const all: Array<{ hook: HookEntry; depth: number }> = [];
  chain.forEach((r, depth) => {
    for (const hook of r.hooks) all.push({ hook, depth });
  });
  // Checked against the class being compiled, whose transitions include its parents': a parent's
  // hook may name a transition only its subclasses declare, as long as the class called has it.
  const known = transitionNames(chain);
  for (const { hook } of all) if (hook.transitions !== undefined && hook.method !== undefined) checkTransitions(hook, known, `${owner}: ${hookName(hook, rec.state)}`, `${owner} for ${rec.state}`);
  all.sort((a, b) => a.hook.order - b.hook.order || a.depth - b.depth || Number(a.hook.external) - Number(b.hook.external) || a.hook.seq - b.hook.seq);
  const byKind = (kind: HookKind) => all.filter((h) => h.hook.kind === kind).map((h) => h.hook);
  rec.compiled = { before: byKind('before'), success: byKind('success'), error: byKind('error'), after: byKind('after'), afterCommit: byKind('afterCommit') };
  let persistence: unknown;
  for (let i = chain.length - 1; i >= 0 && persistence === undefined; i--) persistence = chain[i]!.ownPersistence;
  rec.persistence = persistence;
  rec.needsStore = persistence === undefined ? storeOnly(chain, all, rec.state) : undefined;
  rec.plain = all.length === 0 && persistence === undefined && rec.needsStore === undefined;
  if ((rec.getter === undefined) !== (rec.setter === undefined)) {
    const has = rec.getter !== undefined ? 'getter' : 'setter';
    const lacks = has === 'getter' ? 'setter' : 'getter';
    throw new TypeError(
      `${owner} has @${rec.state.name}.${has}() on ${String(rec.getter ?? rec.setter)}() but no @${rec.state.name}.${lacks}(): declare both, or neither to keep the state on the flow itself.`,
    );
  }
  rec.version = live.hookVersion;
  rec.fastVersion = rec.plain ? live.hookVersion : -1;
}

/**
 * What `flowClass` (with its parents) declares that only a persisted flow with a worker can run:
 * a timer or a durable afterCommit hook, named for a message; `undefined` when nothing.
 */
export function workerNeeds(state: StateSpec<any>, flowClass: Function): string | undefined {
  const chain = recordChain(flowClass, state);
  return storeOnly(chain, chain.flatMap((r) => r.hooks.map((hook) => ({ hook }))), state);
}

/**
 * Lifecycle hooks (README, Hooks): registration, inheritance and order.
 *
 * Hooks are kept per class record, in registration order; `compileRecord` merges a class's hooks
 * with its ancestors' into four sorted lists the first time a call needs them (and again after any
 * registration, which bumps `hookVersion`). Order: `order` ascending; ties run parents' hooks first,
 * then in declaration order, decorated hooks before externally registered ones.
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
import { ownMetadata } from '../core/metadata.ts';
import { live } from '../core/live.ts';
import type { StateSpec } from '../core/state-spec.ts';

export const HOOK_KINDS: readonly HookKind[] = ['before', 'success', 'error', 'after'];

export interface HookOptions {
  /** Lower runs first; default 0. */
  readonly order?: number;
}

export function addHook(rec: ClassRecord, kind: HookKind, target: { method: PropertyKey } | { fn: Function }, options: HookOptions | undefined, external: boolean, where: string): void {
  const order = options?.order ?? 0;
  if (typeof order !== 'number' || !Number.isFinite(order)) throw new TypeError(`${where}: hook order must be a finite number, got ${String(order)}.`);
  const fn = 'fn' in target ? target.fn : undefined;
  rec.hooks.push({
    kind,
    // A decorated hook's function is only known through the prototype at call time: probe it.
    async: fn !== undefined && isAsyncFunction(fn),
    probed: fn !== undefined && isAsyncFunction(fn),
    order,
    method: 'method' in target ? target.method : undefined,
    fn: 'fn' in target ? target.fn : undefined,
    external,
    seq: nextHookSeq(),
  });
  bumpHookVersion();
}

/** `s.hook(FlowClass, kind, fn, { order })`: a hook registered from outside the class. */
export function registerExternalHook(state: StateSpec<any>, flowClass: Function, kind: HookKind, fn: Function, options?: HookOptions): void {
  const where = `${state}.hook(${flowClass?.name || '?'}, ${JSON.stringify(kind)})`;
  if (typeof flowClass !== 'function') throw new TypeError(`${where}: the first argument must be a flow class.`);
  if (!HOOK_KINDS.includes(kind)) throw new TypeError(`${where}: kind must be one of ${HOOK_KINDS.map((k) => JSON.stringify(k)).join(', ')}.`);
  if (typeof fn !== 'function') throw new TypeError(`${where}: the hook must be a function.`);
  addHook(ownRecord(ownMetadata(flowClass), state), kind, { fn }, options, true, where);
}

/**
 * Merges and sorts the hooks a class sees, and validates its accessors. Runs once per class per
 * change of any definition; `owner` names the flow class in errors.
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
  all.sort((a, b) => a.hook.order - b.hook.order || a.depth - b.depth || Number(a.hook.external) - Number(b.hook.external) || a.hook.seq - b.hook.seq);
  const byKind = (kind: HookKind) => all.filter((h) => h.hook.kind === kind).map((h) => h.hook);
  rec.compiled = { before: byKind('before'), success: byKind('success'), error: byKind('error'), after: byKind('after') };
  let persistence: unknown;
  for (let i = chain.length - 1; i >= 0 && persistence === undefined; i--) persistence = chain[i]!.ownPersistence;
  rec.persistence = persistence;
  rec.plain = all.length === 0 && persistence === undefined;
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

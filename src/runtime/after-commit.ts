/**
 * `afterCommit` hooks (README, Effects after commit): what runs once an outermost call's work is
 * durable, and what a store must record for a worker to run.
 *
 * Once per state change the committed call kept (its chain's transitions, in the order they
 * happened), the class's in-process `afterCommit` hooks for that State run with an event like an
 * `onSuccess` hook's, outside the flow's async frame: a transition they call is a new call. A
 * hook's error changes nothing (the work is committed) and does not stop the other hooks: it is
 * reported as an `AfterCommitError` process warning. Durable hooks are not run here: a store
 * records them in the committing transaction (`durableHooks`) and a worker runs them.
 */

import { AfterCommitError } from '../core/errors.ts';
import type { HookEntry } from '../core/definition.ts';
import type { StateSpec } from '../core/state-spec.ts';
import { className, recordOf } from './access.ts';
import { outsideFrames } from './async-context.ts';
import type { JournalEntry } from './flow-state.ts';

/** A committed change and the flow it belongs to. */
export interface Committed {
  readonly flow: object;
  readonly change: JournalEntry;
}

function hooksFor(flow: object, state: StateSpec<any>, transition: string, durable: boolean): HookEntry[] {
  const hooks = recordOf(flow, state).compiled?.afterCommit;
  if (hooks === undefined || hooks.length === 0) return [];
  return hooks.filter((h) => h.durable === durable && (h.transitions === undefined || h.transitions.has(transition)));
}

function report(flow: object, transition: string, hook: HookEntry, error: unknown): void {
  const name = hook.method !== undefined ? `${String(hook.method)}()` : hook.fn?.name ? `${hook.fn.name}()` : 'a registered hook';
  process.emitWarning(new AfterCommitError(className(flow), transition, name, error));
}

/**
 * Runs the in-process afterCommit hooks for `committed`, in order. Synchronous while every hook
 * is; returns a promise (which never rejects) once one returns a promise.
 */
export function runAfterCommit(committed: readonly Committed[], user: unknown): Promise<void> | undefined {
  let i = 0;
  let queue: HookEntry[] = [];
  let current: Committed | undefined;
  const next = (): Promise<void> | undefined => {
    for (;;) {
      if (queue.length === 0) {
        if (i >= committed.length) return undefined;
        current = committed[i++]!;
        queue = hooksFor(current.flow, current.change.state, current.change.transition, false);
        continue;
      }
      const hook = queue.shift()!;
      const { flow, change } = current!;
      const event = {
        flow,
        state: change.state,
        transition: change.transition,
        source: change.source,
        target: change.target,
        args: change.origin?.args ?? [],
        result: change.origin?.result,
        user,
      };
      let out: unknown;
      try {
        out = outsideFrames(() => (hook.method !== undefined ? (flow as Record<PropertyKey, Function>)[hook.method]!(event) : hook.fn!(event)));
      } catch (error) {
        report(flow, change.transition, hook, error);
        continue;
      }
      if (out !== null && typeof out === 'object' && typeof (out as PromiseLike<unknown>).then === 'function') {
        const transition = change.transition;
        return Promise.resolve(out).then(
          () => next(),
          (error: unknown) => {
            report(flow, transition, hook, error);
            return next();
          },
        );
      }
    }
  };
  return next();
}

/** The durable afterCommit hooks a store must record for `changes` of `flow`: method names, per change. */
export function durableHooks(flow: object, changes: readonly JournalEntry[]): Array<{ change: JournalEntry; hook: string }> {
  const out: Array<{ change: JournalEntry; hook: string }> = [];
  for (const change of changes) {
    for (const hook of hooksFor(flow, change.state, change.transition, true)) out.push({ change, hook: String(hook.method) });
  }
  return out;
}

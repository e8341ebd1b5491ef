/**
 * Per-instance bookkeeping that only some flows need: a flow with an asynchronous transition in
 * flight (calls from outside queue behind it) or with someone waiting for one of its states.
 *
 * Flows nobody waits on and with nothing in flight have no entry, and `live.flagged === 0` lets the
 * hot path skip even the WeakMap lookup: this is what keeps per-instance memory at zero.
 */

import type { StateSpec } from '../core/state-spec.ts';
import type { StateValue } from '../core/errors.ts';
import { live } from '../core/live.ts';

export interface Waiter {
  readonly state: StateSpec<any>;
  readonly value: StateValue;
  /** `exact`: resolves on entering `value` (ordered: rejects once a later value is entered). */
  readonly atLeast: boolean;
  /** Journal entries recorded before the waiter (sequence below this) do not concern it. */
  readonly from: number;
  readonly resolve: (value: StateValue) => void;
  readonly reject: (reason: unknown) => void;
  readonly dispose: () => void;
}

/** One state change kept by a call: what waiters are woken for and what a store persists. */
export interface StateChange {
  readonly state: StateSpec<any>;
  /** The method name of the transition that made it. */
  readonly transition: string;
  readonly source: StateValue;
  readonly target: StateValue;
}

/**
 * A journal entry: a change, or (`seen`) a value that is not one: what a wait found when it was
 * made (for that waiter only), or where a rollback left its State. Stores never see `seen` entries.
 */
export interface JournalEntry extends StateChange {
  readonly seen?: true;
  /** A value a wait found when it was made: it concerns that waiter only. */
  readonly owner?: Waiter;
  /** Order of recording across all flows: a waiter counts only entries recorded after it. */
  readonly seq: number;
  /** The call that made the change: its arguments and (once known) result, for `afterCommit` events. */
  readonly origin?: { readonly args: unknown[]; readonly result: unknown };
}

let seq = 0;

/** The sequence number the next journal entry will get. */
export function nextSeq(): number {
  return seq;
}

/** Appends a change (or a `seen` value) to the flow's journal. */
export function record(fs: FlowState, change: StateChange & { readonly origin?: JournalEntry['origin'] }, seen?: true, owner?: Waiter): void {
  fs.journal.push(seen ? { ...change, seen, owner, seq: seq++ } : { ...change, seq: seq++ });
}

export interface FlowState {
  /** Outermost-call nesting depth (synchronous chaining and in-flight asynchronous calls). */
  depth: number;
  /** Asynchronous calls in flight on this flow (an outside call waits while > 0). */
  active: number;
  /** Outside calls waiting for their turn, oldest first. */
  readonly queue: Array<() => void>;
  readonly waiters: Waiter[];
  /** State changes made (and not rolled back) during the current outermost call, in order. */
  journal: JournalEntry[];
  /** A delivery is scheduled for when the synchronous stack has unwound. */
  deliverySoon: boolean;
  /** Rollback writes that failed (a setter threw): a unit of work that sees this grow keeps nothing. */
  failedWrites: number;
}

const flagged = new WeakMap<object, FlowState>();

export function flowState(flow: object): FlowState | undefined {
  return live.flagged === 0 ? undefined : flagged.get(flow);
}

export function flag(flow: object): FlowState {
  let fs = flagged.get(flow);
  if (fs === undefined) {
    fs = { depth: 0, active: 0, queue: [], waiters: [], journal: [], deliverySoon: false, failedWrites: 0 };
    flagged.set(flow, fs);
    live.flagged++;
  }
  return fs;
}

/** Drops the entry once nothing is in flight, queued or waited for. */
export function unflagIfIdle(flow: object, fs: FlowState): void {
  if (fs.depth === 0 && fs.active === 0 && fs.queue.length === 0 && fs.waiters.length === 0 && !fs.deliverySoon && flagged.get(flow) === fs) {
    flagged.delete(flow);
    live.flagged--;
  }
}

/**
 * A rollback left `now.state` at `now.target` (the source, or the `onError` value). Every entry for
 * that State journaled since `mark` (when the call began, its hooks' and body's calls included)
 * is undone; entries for other States stand, a rollback writes only its own. Then where the State
 * is now is recorded: an `onError` move is a change; back at the source is not one (stores ignore
 * it), but waits made during the call judge it.
 */
export function journalRollback(fs: FlowState, mark: number, now: StateChange, onError: boolean): void {
  const journal = fs.journal;
  let kept = mark;
  for (let i = mark; i < journal.length; i++) if (journal[i]!.state !== now.state) journal[kept++] = journal[i]!;
  journal.length = kept;
  if (onError) record(fs, now);
  else record(fs, now, true);
}

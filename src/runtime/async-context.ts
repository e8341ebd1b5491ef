/**
 * Which flows have a transition running in the current asynchronous call chain.
 *
 * A call made while a flow has an async transition in flight must wait its turn, unless it comes
 * from inside that transition (chaining, across `await`s). AsyncLocalStorage tells them apart.
 * A frame costs ~300 ns, so only async work enters one; sync chaining needs none (a sync body's
 * nested calls cannot meet a busy flow unless an async transition of theirs is in flight).
 */

import { AsyncLocalStorage } from 'node:async_hooks';

interface Frame {
  readonly flow: object;
  readonly parent: Frame | undefined;
}

const context = new AsyncLocalStorage<Frame>();
/** No frame was ever entered: `insideOf` can answer without asking AsyncLocalStorage. */
let used = false;

/** Whether the current call chain is inside a running transition of `flow`. */
export function insideOf(flow: object): boolean {
  if (!used) return false;
  for (let f = context.getStore(); f !== undefined; f = f.parent) if (f.flow === flow) return true;
  return false;
}

/** Runs `fn` inside a frame naming `flow` (and whatever frames enclose this call). */
export function runInFrame<A extends unknown[], R>(flow: object, fn: (...args: A) => R, ...args: A): R {
  used = true;
  return context.run({ flow, parent: context.getStore() }, fn, ...args);
}

/** Runs `fn` outside every transition's frame: calls it makes are outside calls (afterCommit hooks). */
export function outsideFrames<R>(fn: () => R): R {
  return used ? context.exit(fn) : fn();
}

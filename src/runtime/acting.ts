/**
 * Who a transition acts for (README, Permissions and `actingAs`).
 *
 * `actingAs(user, fn)` runs `fn` in an AsyncLocalStorage scope, so every transition called inside
 * it, after `await`s too, sees that user: its `permission` is enforced and its hook events carry
 * `user`. Nothing is asked of AsyncLocalStorage until the first `actingAs` (and then only by
 * transitions that have a permission, hooks or a store), so flows that never use it pay nothing.
 */

import { AsyncLocalStorage } from 'node:async_hooks';

/** An `actingAs` scope. An object, so that acting for `undefined` (an anonymous user) differs from no scope. */
export interface ActingScope {
  readonly user: unknown;
}

const scopes = new AsyncLocalStorage<ActingScope>();
/** No `actingAs` ever ran: `actingScope` can answer without asking AsyncLocalStorage. */
let used = false;

/**
 * Runs `fn` and returns its result; every transition called inside it (chained, hooked and async
 * ones included, across `await`s) acts for `user`: a transition whose `permission` refuses that
 * user fails with `TransitionNotAllowed` (`reason: 'permission'`) before anything changes, and hook
 * events carry `user`. Outside `actingAs`, permissions are not enforced.
 *
 * @example
 * await actingAs(currentUser, () => new OrderFlow(order).place());
 */
export function actingAs<R>(user: unknown, fn: () => R): R {
  if (typeof fn !== 'function') throw new TypeError(`actingAs(user, fn): fn must be a function, got ${fn === null ? 'null' : typeof fn}.`);
  used = true;
  return scopes.run({ user }, fn);
}

/** The `actingAs` scope the current code runs in, or `undefined` outside any. */
export function actingScope(): ActingScope | undefined {
  return used ? scopes.getStore() : undefined;
}

/**
 * The user the current transition acts for: the `user` of the innermost enclosing `actingAs`,
 * `undefined` outside any (or when acting for an anonymous `undefined` user; `actingScope` tells
 * them apart). For stores: `persistTransitions`' `actor(flow, user)` receives it.
 *
 * @example
 * actingAs('ann', () => actingUser()); // 'ann'
 */
export function actingUser(): unknown {
  return used ? scopes.getStore()?.user : undefined;
}

/** Runs `fn` in `scope` (or outside any scope): for a call that was queued in one context and runs in another. */
export function inScope<R>(scope: ActingScope | undefined, fn: () => R): R {
  if (!used) return fn();
  return scope === undefined ? scopes.exit(fn) : scopes.run(scope, fn);
}

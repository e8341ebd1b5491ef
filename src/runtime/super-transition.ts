/**
 * `superTransition(Parent, this)`: the parent's undecorated bodies, bound to the flow.
 *
 * A subclass that extends a transition calls the parent's body through this instead of
 * `super.method()`, which would run the parent's transition wrapper and change the state twice.
 */

import { plansByWrapper as plans } from './wrapper.ts';

const FLOW: unique symbol = Symbol('transitional.superTransition.flow');
const views = new WeakMap<Function, object>();

/** The prototype of the views of `Parent`: one forwarding method per method name it has. */
function viewOf(Parent: Function): object {
  let view = views.get(Parent);
  if (view) return view;
  view = Object.create(null) as object;
  for (let proto = Parent.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Reflect.ownKeys(proto)) {
      if (key === 'constructor' || Object.prototype.hasOwnProperty.call(view, key)) continue;
      const d = Object.getOwnPropertyDescriptor(proto, key)!;
      if (typeof d.value !== 'function') continue;
      Object.defineProperty(view, key, {
        value: function (this: { [FLOW]: object }, ...args: unknown[]) {
          // Looked up at call time, so a method patched after the first superTransition call is seen.
          const fn = (Parent.prototype as Record<PropertyKey, Function>)[key]!;
          return (plans.get(fn)?.body ?? fn).apply(this[FLOW], args);
        },
      });
    }
  }
  views.set(Parent, view);
  return view;
}

/**
 * The methods of `Parent` as they are without their transition decorators, called on `flow`.
 * The state does not change again and no hooks run: the caller is already inside its transition.
 *
 * @example
 * class GuestReviewFlow extends ReviewFlow {
 *   @stage.inherit()
 *   override fastTrack() {
 *     superTransition(ReviewFlow, this).fastTrack();
 *     this.review.approver = 'guest-' + this.review.approver;
 *   }
 * }
 */
export function superTransition<P extends object>(Parent: abstract new (...args: any[]) => P, flow: P): P {
  if (typeof Parent !== 'function' || !(flow instanceof Parent)) {
    throw new TypeError(`superTransition(${(Parent as Function)?.name ?? String(Parent)}, flow): the flow is not an instance of that class.`);
  }
  const view = Object.create(viewOf(Parent)) as { [FLOW]: object };
  view[FLOW] = flow;
  return view as unknown as P;
}

/**
 * The options each `persistTransitions` call was given, by the store it made: what the admin view
 * (`transitional/admin`) checks when it is set up (a `flow` factory and a `field` for every flow it
 * shows) and reads (`log`: where the history lives).
 */

import type { MikroOrmTransitionStore, PersistOptions } from './store.ts';

const declared = new WeakMap<object, PersistOptions<any>>();

/** Records the options `store` was made with (called by `persistTransitions`). */
export function declareOptions<F extends object>(store: MikroOrmTransitionStore<F>, options: PersistOptions<F>): void {
  declared.set(store, options);
}

/** The options `store` was made with by `persistTransitions`, or `undefined` for a store made otherwise. */
export function declaredOptions<F extends object>(store: MikroOrmTransitionStore<F>): PersistOptions<F> | undefined {
  return declared.get(store);
}

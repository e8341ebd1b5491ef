/**
 * Entry point of the packed-package test for `transitional/mikro-orm` under node10 resolution:
 * its types resolve (through `typesVersions`) and a CommonJS build require()s it.
 */
import { history, persistTransitions, TransitionLog, type PersistOptions } from 'transitional/mikro-orm';

const options: Partial<PersistOptions<object>> = {};
console.log(JSON.stringify({ history: typeof history, persistTransitions: typeof persistTransitions, TransitionLog: TransitionLog.meta.className, options: Object.keys(options).length }));

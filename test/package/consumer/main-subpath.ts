/**
 * Entry point of the packed-package test for the subpaths `transitional/mikro-orm` and
 * `transitional/admin`: their types resolve (under node10 through `typesVersions`) and a build
 * loads them (a CommonJS one with require()).
 */
import { history, persistTransitions, TransitionLog, type PersistOptions } from 'transitional/mikro-orm';
import { adminHandler, serveAdmin, toNodeListener, type AdminOptions } from 'transitional/admin';

const options: Partial<PersistOptions<object>> = {};
const admin: Partial<AdminOptions<{ id: string }>> = { basePath: '/admin', userKey: (user) => user.id };
console.log(
  JSON.stringify({
    history: typeof history,
    persistTransitions: typeof persistTransitions,
    TransitionLog: TransitionLog.meta.className,
    options: Object.keys(options).length,
    admin: [typeof adminHandler, typeof serveAdmin, typeof toNodeListener, Object.keys(admin).length],
  }),
);

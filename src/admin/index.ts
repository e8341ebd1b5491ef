/**
 * transitional/admin: a self-hosted view over the flows persisted in your own database (README,
 * Admin view). `adminHandler(options)` is a Fetch API handler to mount in any server;
 * `serveAdmin(options)` runs it alone on `node:http`.
 *
 * Pages are rendered on the server and work without client script: every flow with its diagram
 * (SVG drawn by Graphviz in WebAssembly, `@viz-js/viz`) and counts per state, the entities in one
 * state, and one entity with its history and a button per transition the requesting user may run.
 */

export { adminHandler } from './handler.ts';
export { serveAdmin, toNodeListener, type AdminServer, type ServeAdminOptions, type NodeListenerOptions } from './node.ts';
export type { AdminOptions, AdminFlow } from './options.ts';

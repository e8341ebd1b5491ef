/**
 * The admin view's options, checked once when the handler is made: every flow shown must be
 * persisted with `persistTransitions` and declare its `flow` factory and its `field`, and its entity
 * must be one the ORM knows.
 */

import { randomBytes } from 'node:crypto';
import { ReferenceKind, type EntityMetadata, type EntityName, type EntityProperty, type MikroORM } from '@mikro-orm/core';
import type { State } from '../state.ts';
import type { StateValue } from '../core/errors.ts';
import { persistedWith, TransitionLog, type MikroOrmTransitionStore } from '../mikro-orm/index.ts';

/** One flow the view shows. */
export interface AdminFlow {
  /** The flow class, persisted with `persistTransitions(state, flow, { flow: factory, field, ... })`. */
  readonly flow: abstract new (...args: any[]) => object;
  /** The `State` of that class the view shows and drives. */
  readonly state: State<any>;
  /** The MikroORM entity that holds the state (the class or `defineEntity` schema). */
  readonly entity: EntityName<any>;
  /** The heading of this flow (default: the flow class name). */
  readonly title?: string;
  /**
   * A short text for an entity in lists and headings (default: its `title`, `name`, `subject`,
   * `label` or `email` property, the first that is a string).
   */
  readonly caption?: (entity: any) => string | undefined;
}

/** The options of `adminHandler`. */
export interface AdminOptions<U = unknown> {
  /** The initialized ORM whose entities the flows use. Each request works in a fresh fork of its entity manager. */
  readonly orm: MikroORM;
  /** The flows to show. */
  readonly flows: readonly AdminFlow[];
  /**
   * Who is asking: the user a request acts for (transitions run inside `actingAs(user, ...)`), or
   * `undefined` (or `null`) for nobody, answered with 401. Required: the view never guesses.
   *
   * @example
   * user: async (request) => sessions.userFor(request.headers.get('cookie'))
   */
  readonly user: (request: Request) => U | null | undefined | Promise<U | null | undefined>;
  /** Where the view is mounted (`'/admin'`): links and redirects start with it. Default `''` (the root). */
  readonly basePath?: string;
  /**
   * A stable text that identifies a user, to bind CSRF tokens to the user they were issued to.
   * Default: the user itself when it is a string or number, else its `id` property when that is a
   * string or number, else `JSON.stringify(user)`. Give one when your user objects have no `id`
   * or when ids repeat across kinds of users.
   */
  readonly userKey?: (user: U) => string;
  /**
   * The key that signs CSRF tokens and the messages shown after an action (at least 32 bytes of
   * randomness, as text or bytes). Default: random per handler, so tokens die with the process;
   * give the same secret to every process that serves the view behind one address.
   */
  readonly secret?: string | Uint8Array;
  /** Entities per page in the lists of one state. Default 50. */
  readonly pageSize?: number;
}

/** A flow as the handler uses it: checked, with what its pages need. */
export interface ShownFlow {
  readonly index: number;
  /** Its path segment: the flow class name (with `-2`, `-3`... when several entries share it). */
  readonly slug: string;
  readonly title: string;
  readonly flowClass: abstract new (...args: any[]) => object;
  readonly state: State<any>;
  readonly entity: EntityName<any>;
  readonly meta: EntityMetadata<any>;
  /** The entity property that holds the state, and its column. */
  readonly field: string;
  readonly store: MikroOrmTransitionStore<object>;
  /** The primary key properties. */
  readonly keys: readonly EntityProperty[];
  /** Where the history lives, or `undefined` when the flow keeps none (`log: false`). */
  readonly log: EntityName<any> | undefined;
  readonly caption: (entity: any) => string | undefined;
  /** The scalar properties shown on an entity's page. */
  readonly columns: readonly EntityProperty[];
  /** The entity's version property, when it has one. */
  readonly version: string | undefined;
}

/** The handler's checked setup. */
export interface Site<U> {
  readonly orm: MikroORM;
  readonly flows: readonly ShownFlow[];
  readonly user: (request: Request) => U | null | undefined | Promise<U | null | undefined>;
  readonly userKey: (user: U) => string;
  readonly basePath: string;
  readonly secret: Uint8Array;
  readonly pageSize: number;
}

const CAPTIONS = ['title', 'name', 'subject', 'label', 'email'];

function fail(message: string): never {
  throw new TypeError(`adminHandler(): ${message}`);
}

/**
 * The default user key: a string or number user as it is, else its `id`, else its JSON.
 * Throws a `TypeError` asking for `userKey` when none of them gives a text.
 */
export function defaultUserKey(user: unknown): string {
  if (typeof user === 'string' || typeof user === 'number' || typeof user === 'bigint') return `${typeof user}:${String(user)}`;
  if (typeof user === 'object' && user !== null) {
    const id = (user as { id?: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number' || typeof id === 'bigint') return `id:${String(id)}`;
    let json: string | undefined;
    try {
      json = JSON.stringify(user);
    } catch {
      // a cycle, a bigint: reported below
    }
    if (typeof json === 'string') return `json:${json}`;
  }
  throw new TypeError(`adminHandler(): cannot tell users apart by ${typeof user === 'object' ? 'this user object (no id, and no JSON)' : `a ${typeof user} user`}: pass the userKey option, (user) => a stable text that identifies the user.`);
}

function secretBytes(secret: string | Uint8Array | undefined): Uint8Array {
  if (secret === undefined) return randomBytes(32);
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (!(bytes instanceof Uint8Array) || bytes.length < 32) fail('secret must be at least 32 bytes (of randomness), as a string or a Uint8Array.');
  return bytes;
}

/** The ORM's metadata of `entity`, or `undefined` when it is not one of the ORM's entities. */
function registeredMeta(orm: MikroORM, entity: EntityName<any>): EntityMetadata<any> | undefined {
  const storage = orm.getMetadata();
  let meta: EntityMetadata<any> | undefined;
  try {
    meta = storage.find(entity);
  } catch {
    return undefined;
  }
  // `find` falls back to a `defineEntity` schema's own metadata, registered or not.
  return meta !== undefined && [...storage].includes(meta) ? meta : undefined;
}

function findMeta(orm: MikroORM, entity: EntityName<any>, where: string): EntityMetadata<any> {
  const meta = registeredMeta(orm, entity);
  if (meta === undefined) fail(`${where}: entity ${describeEntity(entity)} is not one of the ORM's entities (add it to MikroORM.init({ entities })).`);
  return meta;
}

function describeEntity(entity: unknown): string {
  if (typeof entity === 'function') return entity.name;
  if (typeof entity === 'string') return entity;
  const name = (entity as { meta?: { className?: string }; name?: string } | null)?.meta?.className ?? (entity as { name?: string } | null)?.name;
  return typeof name === 'string' ? name : String(entity);
}

/** Checks `options` and resolves everything the pages need; throws a `TypeError` naming the problem and the fix. */
export function resolveOptions<U>(options: AdminOptions<U>): Site<U> {
  if (options === null || typeof options !== 'object') fail('options { orm, flows, user } are required.');
  const { orm } = options;
  if (orm === null || typeof orm !== 'object' || typeof (orm as { getMetadata?: unknown }).getMetadata !== 'function' || typeof (orm as { em?: { fork?: unknown } }).em?.fork !== 'function') {
    fail('options.orm must be an initialized MikroORM (await MikroORM.init(...)).');
  }
  if (typeof options.user !== 'function') {
    fail('options.user is required: (request) => the user the request acts for, or undefined (answered with 401). The view never guesses who is asking.');
  }
  if (options.userKey !== undefined && typeof options.userKey !== 'function') fail('options.userKey must be a function (user) => a stable text.');
  if (!Array.isArray(options.flows) || options.flows.length === 0) fail('options.flows must list at least one { flow, state, entity }.');
  const pageSize = options.pageSize ?? 50;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 1000) fail(`options.pageSize must be an integer from 1 to 1000, got ${String(options.pageSize)}.`);
  if (options.basePath !== undefined && (typeof options.basePath !== 'string' || !/^(?:\/[^/?#]+)*\/?$/.test(options.basePath))) {
    fail(`options.basePath must be a path starting with "/" (like "/admin"), got ${JSON.stringify(options.basePath)}.`);
  }
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');

  const slugs = new Map<string, number>();
  const logMeta = registeredMeta(orm, TransitionLog);
  const flows = options.flows.map((entry, index): ShownFlow => {
    const where = `options.flows[${index}]`;
    if (entry === null || typeof entry !== 'object') fail(`${where} must be { flow, state, entity }.`);
    const { flow: flowClass, state, entity } = entry;
    if (typeof flowClass !== 'function') fail(`${where}.flow must be a flow class.`);
    if (state === null || typeof state !== 'object' || typeof (state as { transitions?: unknown }).transitions !== 'function') fail(`${where}.state must be the State of ${flowClass.name} to show.`);
    const store = persistedWith(state, flowClass);
    if (store === undefined) {
      fail(`${where}: ${flowClass.name} is not persisted for ${String(state)}: call persistTransitions(${state.name}, ${flowClass.name}, { em, entity, flow, field }) before adminHandler().`);
    }
    const declared = store.options;
    if (declared.flow === undefined) {
      fail(`${where}: persistTransitions(${state.name}, ${flowClass.name}, ...) has no flow factory: add { flow: (entity, em) => new ${flowClass.name}(...) } so the view can wrap the entities it loads.`);
    }
    if (declared.field === undefined) {
      fail(`${where}: persistTransitions(${state.name}, ${flowClass.name}, ...) has no field: add { field: '<the property that holds the state>' } so the view can count and list entities per state.`);
    }
    const meta = findMeta(orm, entity, where);
    const field = declared.field;
    const prop = meta.properties[field] as EntityProperty | undefined;
    if (prop === undefined || prop.kind !== ReferenceKind.SCALAR) {
      fail(`${where}: ${meta.className} has no scalar property "${field}" (the field option of persistTransitions(${state.name}, ${flowClass.name}, ...)).`);
    }
    if (meta.primaryKeys.length === 0) fail(`${where}: ${meta.className} has no primary key.`);
    const log = store.logEntity;
    if (log === TransitionLog && logMeta === undefined) {
      fail(`${where}: ${flowClass.name} writes its history to TransitionLog, which is not one of the ORM's entities (add it to MikroORM.init({ entities })).`);
    }
    if (entry.caption !== undefined && typeof entry.caption !== 'function') fail(`${where}.caption must be a function (entity) => text.`);
    if (entry.title !== undefined && typeof entry.title !== 'string') fail(`${where}.title must be a string.`);
    const seen = (slugs.get(flowClass.name) ?? 0) + 1;
    slugs.set(flowClass.name, seen);
    const columns = meta.props.filter((p) => p.kind === ReferenceKind.SCALAR && p.persist !== false && p.hidden !== true);
    const captionProp = CAPTIONS.map((name) => meta.properties[name] as EntityProperty | undefined).find((p) => p !== undefined && p.kind === ReferenceKind.SCALAR && p.runtimeType === 'string');
    return {
      index,
      slug: seen === 1 ? flowClass.name : `${flowClass.name}-${seen}`,
      title: entry.title ?? flowClass.name,
      flowClass,
      state,
      entity,
      meta,
      field,
      store: store as MikroOrmTransitionStore<object>,
      keys: meta.primaryKeys.map((k) => meta.properties[k] as EntityProperty),
      log,
      caption: entry.caption ?? ((e: Record<string, unknown>) => (captionProp === undefined ? undefined : (e[captionProp.name] as string | undefined) ?? undefined)),
      columns,
      version: meta.versionProperty as string | undefined,
    };
  });
  return {
    orm,
    flows,
    user: options.user,
    userKey: (options.userKey ?? defaultUserKey) as (user: U) => string,
    basePath,
    secret: secretBytes(options.secret),
    pageSize,
  };
}

/** `value`'s declared value in `state` whose text is `text`, if any (URLs and history rows hold text). */
export function declaredValue(state: State<any>, text: string): StateValue | undefined {
  return state.values.find((v: StateValue) => String(v) === text);
}

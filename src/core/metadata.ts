/**
 * Where definitions live: the class's decorator metadata object (`Class[Symbol.metadata]`).
 *
 * Standard (TC39) decorators hand every member decorator `context.metadata`, one object per class
 * whose prototype is the parent class's metadata, so a subclass sees its parents' definitions
 * through the prototype chain and can shadow them. `experimentalDecorators` has no metadata, so we
 * build the same object ourselves from the constructor: both modes then share one representation.
 *
 * Node ≤ 24 has no `Symbol.metadata`; TypeScript only emits metadata when it exists, esbuild falls
 * back to `Symbol.for('Symbol.metadata')`. Installing that same registered symbol makes both agree.
 * This module is imported first by the package entry, before any user class can be defined.
 */

(Symbol as { metadata?: symbol }).metadata ??= Symbol.for('Symbol.metadata');

export const METADATA: unique symbol = Symbol.metadata as never;

export type Metadata = Record<PropertyKey, unknown>;

export type AnyClass = abstract new (...args: never[]) => object;

/** The metadata object of `ctor`, created (chained to its parent's) if the class has none of its own. */
export function ownMetadata(ctor: Function): Metadata {
  if (Object.prototype.hasOwnProperty.call(ctor, METADATA)) {
    const own = (ctor as unknown as Record<symbol, Metadata | undefined>)[METADATA];
    if (own) return own;
  }
  const parent = Object.getPrototypeOf(ctor) as Function | null;
  const inherited = parent && parent !== Function.prototype ? metadataOf(parent) : undefined;
  const meta = Object.create(inherited ?? null) as Metadata;
  Object.defineProperty(ctor, METADATA, { value: meta, writable: true, configurable: true, enumerable: false });
  return meta;
}

/** The metadata visible from `ctor` (its own or an ancestor's), if any. */
export function metadataOf(ctor: Function): Metadata | undefined {
  return (ctor as unknown as Record<symbol, Metadata | undefined>)[METADATA] ?? undefined;
}

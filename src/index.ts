/**
 * transitional: finite state machines as a native TypeScript construct.
 *
 * `core/metadata.ts` is imported first: it installs `Symbol.metadata` before any user class using our
 * decorators can be defined.
 */
import './core/metadata.ts';

export { State, type StateOptions, type HookEvent, type HookKindName, type MethodName } from './state.ts';
export { superTransition } from './runtime/super-transition.ts';
export { actingAs } from './runtime/acting.ts';
export { TransitionNotAllowed, InvalidTransitionInput, StateSkipped, AfterCommitError, type StateValue, type NotAllowedReason } from './core/errors.ts';
export type { TransitionDefinition, Condition, ConditionResult, Permission, TargetFunction } from './core/definition.ts';
export type { TransitionOptions, DualMethodDecorator } from './define/decorators.ts';
export type { HookOptions, AfterCommitOptions } from './runtime/hooks.ts';
export type { WaitOptions } from './runtime/waiting.ts';
export type { AvailableOptions } from './read/introspection.ts';
export type { StandardSchemaV1 } from './core/standard-schema.ts';
export { persistWith, persistenceOf, type TransitionStore, type UnitOfWork, type StateChange } from './persistence.ts';
export { toMermaid, toDot } from './read/diagram.ts';

/**
 * transitional: finite state machines as a native TypeScript construct.
 *
 * `metadata.ts` is imported first: it installs `Symbol.metadata` before any user class using our
 * decorators can be defined.
 */
import './metadata.ts';

export { State, type StateOptions, type HookEvent, type HookKindName, type MethodName } from './state.ts';
export { superTransition } from './super-transition.ts';
export { TransitionNotAllowed, InvalidTransitionInput, StateSkipped, type StateValue, type NotAllowedReason } from './errors.ts';
export type { TransitionDefinition, Condition, ConditionResult, Permission } from './definition.ts';
export type { TransitionOptions, DualMethodDecorator } from './decorators.ts';
export type { HookOptions } from './hooks.ts';
export type { WaitOptions } from './waiting.ts';
export type { StandardSchemaV1 } from './standard-schema.ts';
export { persistWith, type TransitionStore, type UnitOfWork, type StateChange } from './persistence.ts';
export { toMermaid, toDot } from './diagram.ts';

/**
 * State diagrams of a flow class (README, Diagrams and the CLI): Mermaid `stateDiagram-v2` and
 * Graphviz DOT.
 *
 * Both are drawn from the public questions (`state.transitions(FlowClass)`, `state.values`,
 * `state.default`) plus the class's decorator metadata, which tells which `State`s a class uses.
 * Nothing here compares against this module's own `ClassRecord` class or `State.ANY` symbol by
 * identity: the CLI may load a user's module that imports another copy of the library (a global
 * `npx` next to a local install), and its records and symbols must still be understood.
 */

import { METADATA } from '../core/metadata.ts';
import type { StateSpec } from '../core/state-spec.ts';
import type { StateValue } from '../core/errors.ts';
import type { TransitionDefinition } from '../core/definition.ts';

/** Any class: the flow classes diagrams are drawn for. */
type FlowClass = abstract new (...args: any[]) => object;

/**
 * A State as the readers see it: its values, and its own `transitions(FlowClass)` question (the
 * public `State` has it). Asked of the State object, not answered by this copy's introspection: a
 * State from another copy of the library (see above) answers from that copy's compiled methods.
 */
export interface ReadableState extends StateSpec<any> {
  transitions(flowClass: FlowClass): readonly TransitionDefinition[];
  /** A value's label (`labels` option); absent from copies of the library older than labels. */
  label?(value: StateValue): string;
}

/** One arrow of a diagram. */
export interface DiagramEdge {
  readonly source: StateValue;
  readonly target: StateValue;
  readonly label: string;
  /** The arrow of a transition's `onError` move (drawn dashed in DOT, labelled "<label> (error)"). */
  readonly error: boolean;
}

/** The label of `value`, or the value as text: what diagrams and the CLI show for a state. */
export function labelOf(state: ReadableState, value: StateValue): string {
  return typeof state.label === 'function' ? state.label(value) : String(value);
}

/** Whether `value` has a label of its own (shown instead of the value). */
export function hasLabel(state: ReadableState, value: StateValue): boolean {
  return labelOf(state, value) !== String(value);
}

/**
 * The values a transition may move to: its `targets` (a copy of the library older than dynamic
 * targets reports only `target`).
 */
export function targetsOf(t: TransitionDefinition): readonly StateValue[] {
  if (Array.isArray(t.targets)) return t.targets;
  return t.target === undefined || typeof t.target === 'function' ? [] : [t.target];
}

/** The class's name for messages. */
export function flowClassName(flowClass: Function): string {
  return flowClass.name || '(anonymous class)';
}

/**
 * The `State`s a flow class uses (transitions, accessors or hooks, its own or inherited), the
 * ones its ancestors introduced first.
 *
 * @example
 * statesOf(ReviewFlow); // [stage]
 */
export function statesOf(flowClass: Function): ReadableState[] {
  const meta = (flowClass as unknown as Record<symbol, object | null | undefined>)[METADATA];
  if (meta === null || typeof meta !== 'object') return [];
  const levels: object[] = [];
  for (let m: object | null = meta; m !== null && m !== Object.prototype; m = Object.getPrototypeOf(m)) levels.unshift(m);
  const found = new Set<ReadableState>();
  for (const level of levels) {
    for (const key of Object.getOwnPropertySymbols(level)) {
      // A class record (core/definition.ts `ClassRecord`) is stored under its State's own key. Checked by
      // shape, not `instanceof`: see the file comment.
      const rec = (level as Record<symbol, unknown>)[key] as { state?: { key?: unknown } } | null | undefined;
      if (rec !== null && typeof rec === 'object' && rec.state?.key === key) found.add(rec.state as ReadableState);
    }
  }
  return [...found];
}

/** The State to draw: `s`, or the only State of the class. */
function pickState(flowClass: FlowClass, s: ReadableState | undefined, fn: string): ReadableState {
  const name = flowClassName(flowClass);
  if (typeof flowClass !== 'function') throw new TypeError(`${fn}(): expected a flow class, got ${flowClass === null ? 'null' : typeof flowClass}.`);
  const states = statesOf(flowClass);
  if (s !== undefined) {
    if (!states.includes(s)) {
      const known = states.length ? `its States: ${states.map((x) => x.name).join(', ')}` : 'it uses no State';
      throw new TypeError(`${fn}(${name}, ${String(s)}): ${name} has no definitions for ${String(s)} (${known}).`);
    }
    return s;
  }
  if (states.length === 1) return states[0]!;
  if (states.length === 0) {
    throw new TypeError(`${fn}(${name}): ${name} is not a flow class: it has no State transitions, accessors or hooks.`);
  }
  throw new TypeError(
    `${fn}(${name}): ${name} has ${states.length} States (${states.map((x) => x.name).join(', ')}); pass the one to draw, e.g. ${fn}(${name}, ${states[0]!.name}).`,
  );
}

/**
 * The arrows of the diagram of `state` on `flowClass`, inherited transitions included, each
 * (source, target, label) once: one to each of a transition's `targets` (a dynamic target's
 * declared values included), and one to its `onError` value, labelled "<label> (error)". A
 * `State.ANY` transition gives arrows from every other state (its own target is left out); a
 * transition without target gives none but its error arrows.
 */
export function edgesOf(flowClass: FlowClass, state: ReadableState): DiagramEdge[] {
  const seen = new Set<string>();
  const out: DiagramEdge[] = [];
  const add = (t: TransitionDefinition, target: StateValue, error: boolean) => {
    const sources: readonly StateValue[] = Array.isArray(t.source) ? t.source : state.values.filter((v) => v !== target);
    const label = error ? `${t.label} (error)` : t.label;
    for (const source of sources) {
      const key = JSON.stringify([source, target, label, error]);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ source, target, label, error });
    }
  };
  for (const t of state.transitions(flowClass)) {
    for (const target of targetsOf(t)) add(t, target, false);
    if (t.onError !== undefined) add(t, t.onError, true);
  }
  return out;
}

/** Numbers first, numerically; then strings by UTF-16 code unit (not locale) order. */
export function compareValues(a: StateValue, b: StateValue): number {
  if (typeof a === 'number') return typeof b === 'number' ? a - b : -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Graphviz DOT

/** A DOT double-quoted string: `\` and `"` escaped, line breaks as DOT's `\n`. */
function dotString(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&').replace(/\r\n|\r|\n/g, '\\n')}"`;
}

/**
 * The Graphviz DOT diagram of a flow class: `digraph {`, one `"value" [label="Label"];` line per
 * declared state sorted by value (the label is the value when it has none), one
 * `"source" -> "target" [label="Label"];` line per arrow sorted by source, target and label (an
 * `onError` arrow: `[label="Label (error)", style=dashed]`), then `}`. No indentation; lines joined
 * with `"\n"`, no newline after the closing `}`. Values sort numerically when they are numbers,
 * strings by code unit. `s` may be left out when the class uses one `State`.
 *
 * @example
 * toDot(ReviewFlow);
 * // digraph {
 * // "hidden" [label="hidden"];
 * // "new" [label="new"];
 * // ...
 * // "new" -> "review" [label="Send to review"];
 * // ...
 * // }
 */
export function toDot(flowClass: FlowClass, s?: ReadableState): string {
  const state = pickState(flowClass, s, 'toDot');
  const lines = ['digraph {'];
  for (const value of [...state.values].sort(compareValues)) {
    lines.push(`${dotString(String(value))} [label=${dotString(labelOf(state, value))}];`);
  }
  const edges = edgesOf(flowClass, state).sort(
    (a, b) => compareValues(a.source, b.source) || compareValues(a.target, b.target) || compareText(a.label, b.label),
  );
  for (const e of edges) {
    lines.push(`${dotString(String(e.source))} -> ${dotString(String(e.target))} [label=${dotString(e.label)}${e.error ? ', style=dashed' : ''}];`);
  }
  lines.push('}');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Mermaid

/**
 * Words the `stateDiagram-v2` lexer reads as keywords (case-insensitively) where a state id may
 * stand, and the ids Mermaid uses for `[*]`: such values are drawn through an alias.
 */
const MERMAID_RESERVED = new Set([
  'state', 'note', 'end', 'direction', 'click', 'href', 'default', 'scale', 'classdef', 'class', 'style', 'hide',
  'acctitle', 'accdescr', 'statediagram', 'as', 'root_start', 'root_end',
]);

/** Characters written as they are in Mermaid text; everything else becomes an entity code. */
const MERMAID_PLAIN = /[\p{L}\p{M}\p{N} _.,!?()'+*=@$~/-]/u;

/**
 * Text for a label or a quoted state name. Mermaid's lexer ends a label at `;`, `::` or a line
 * break, reads `%%{`, `<<fork>>`, `[[choice]]` and `direction TB` anywhere on a line, and
 * `"` ends a quoted name: every character outside a plain set is written as Mermaid's entity code
 * `#<code point>;` (decoded when rendered), and the space after `direction` as `#32;`.
 */
function mermaidText(text: string): string {
  let out = '';
  for (const ch of text.replace(/\s+/g, ' ').trim()) out += MERMAID_PLAIN.test(ch) ? ch : `#${ch.codePointAt(0)};`;
  return out.replace(/(direction) (?=TB|BT|LR|RL)/gi, '$1#32;');
}

/** How each value is written in the diagram: its own name when that is a plain identifier, else an alias. */
function mermaidIds(values: readonly StateValue[]): Map<StateValue, { id: string; alias: boolean }> {
  const direct = (v: StateValue) => typeof v === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(v) && !MERMAID_RESERVED.has(v.toLowerCase());
  const taken = new Set(values.filter(direct).map((v) => String(v).toLowerCase()));
  const ids = new Map<StateValue, { id: string; alias: boolean }>();
  values.forEach((v, i) => {
    if (direct(v)) {
      ids.set(v, { id: v as string, alias: false });
      return;
    }
    // `s<index>`, unless a value already uses that name.
    let id = `s${i}`;
    while (taken.has(id.toLowerCase())) id += '_';
    taken.add(id.toLowerCase());
    ids.set(v, { id, alias: true });
  });
  return ids;
}

/**
 * The Mermaid `stateDiagram-v2` diagram of a flow class: `[*] --> default` when the State has a
 * default, every declared state in declaration order (a value that is not a plain identifier, or is
 * a Mermaid keyword, through an alias: `state "in review" as s1`; a labelled value through an alias
 * showing its label: `state "In review" as review`), then `source --> target: Label` arrows ordered
 * by source and target in declaration order, so an `ordered` State reads in its order (an
 * `onError` arrow is labelled "Label (error)"). Lines after the first are indented by four spaces and joined with `"\n"`, no newline at the
 * end. Labels and names are escaped with Mermaid entity codes (`#59;` for `;`).
 * `s` may be left out when the class uses one `State`.
 *
 * @example
 * toMermaid(ReviewFlow);
 * // stateDiagram-v2
 * //     [*] --> new
 * //     new
 * //     review
 * //     ...
 * //     new --> review: Send to review
 */
export function toMermaid(flowClass: FlowClass, s?: ReadableState): string {
  const state = pickState(flowClass, s, 'toMermaid');
  const ids = mermaidIds(state.values);
  const id = (v: StateValue) => ids.get(v)!.id;
  const lines = ['stateDiagram-v2'];
  if (state.default !== undefined) lines.push(`[*] --> ${id(state.default)}`);
  for (const value of state.values) {
    const { id, alias } = ids.get(value)!;
    lines.push(alias || hasLabel(state, value) ? `state "${mermaidText(labelOf(state, value))}" as ${id}` : id);
  }
  const order = (v: StateValue) => state.values.indexOf(v);
  const edges = edgesOf(flowClass, state).sort(
    (a, b) => order(a.source) - order(b.source) || order(a.target) - order(b.target) || compareText(a.label, b.label),
  );
  for (const e of edges) {
    const label = mermaidText(e.label);
    lines.push(`${id(e.source)} --> ${id(e.target)}${label ? `: ${label}` : ''}`);
  }
  return lines.map((line, i) => (i === 0 ? line : `    ${line}`)).join('\n');
}

/**
 * fast-check generators: random State values, random flow classes (stacked, ANY, no-target and
 * onError transitions; subclasses that inherit, redeclare or call their parent's body; bodies
 * and hooks that chain other transitions), and random scripts of calls with injected faults.
 *
 * Everything is generated as flat raw data (small numbers that index into the values and methods)
 * and then `map`ped to a `FlowSpec`: fast-check shrinks through `map` but poorly through `chain`,
 * so this keeps counterexamples small. A reference that does not fit (a chained call to a method
 * listed earlier, `super` in a class that declares the method first) is dropped by the mapping.
 */
import fc from 'fast-check';
import type { BodySpec, BodyStyle, ClassSpec, FlowSpec, HookKind, HookSpec, LaneSpec, MethodSpec, StateSpec, Step, TransitionSpec, V } from './model.ts';

/** Method names, in the order methods are listed, with the label each one gets by default (sentence case). */
export const METHOD_LABELS: Readonly<Record<string, string>> = {
  submit: 'Submit',
  fastTrack: 'Fast track',
  sendToReview: 'Send to review',
  publish_now: 'Publish now',
  archiveAll: 'Archive all',
  reopen: 'Reopen',
};
const NAMES = Object.keys(METHOD_LABELS);

/** State values: strings and numbers, 0 and '' and '0' often (each distinct from the others). */
export const valueArb: fc.Arbitrary<V> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<V>('a', 0, 'b', 1, '0', '', 2, 'open', 'done') },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
);

export const valuesArb = (min = 2, max = 6): fc.Arbitrary<V[]> => fc.uniqueArray(valueArb, { minLength: min, maxLength: max, comparator: 'SameValueZero' });

/** A value no flow declares (the generated strings are at most 4 characters long). */
export const UNDECLARED = 'undeclared!';

export type Mode = 'sync' | 'async';

export interface FlowOptions {
  readonly mode: Mode;
  /** Bodies may register waiters (`wait` steps). */
  readonly waits: boolean;
  readonly values?: fc.Arbitrary<V[]>;
  readonly maxMethods?: number;
}

const MAX_DEPTH = 2;
const LEVELS = MAX_DEPTH + 1;
const MAX_STATES = 2;

// ---------------------------------------------------------------------------------------------
// Raw shapes (what fast-check generates and shrinks)

const rawDef = fc.record({
  sources: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
  noTarget: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  target: fc.nat(),
  onError: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat() }),
  conditions: fc.array(fc.boolean(), { maxLength: 2 }),
  label: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('Go on', 'Send to review', 'x') }),
  extraRewind: fc.boolean(),
  bare: fc.boolean(),
  permission: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.subarray(['ann', 'bob']) }),
});
type RawDef = typeof rawDef extends fc.Arbitrary<infer T> ? T : never;

/** kind: 0 call, 1 super, 2 wait. */
const rawStep = fc.record({ kind: fc.nat(2), ref: fc.nat(), state: fc.nat(), swallow: fc.boolean(), atLeast: fc.boolean() });
type RawStep = typeof rawStep extends fc.Arbitrary<infer T> ? T : never;

const rawBody = fc.record({ steps: fc.array(rawStep, { maxLength: 2 }), style: fc.nat(2) });
type RawBody = typeof rawBody extends fc.Arbitrary<infer T> ? T : never;

/** A lane for one State: 0 leaves it out, 1 `inherit()`s it (where the parent's method has it), 2 declares it. */
const rawLane = fc.record({
  mode: fc.oneof({ weight: 1, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.nat(2) }),
  any: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  defs: fc.array(rawDef, { minLength: 1, maxLength: 3 }),
});
type RawLane = typeof rawLane extends fc.Arbitrary<infer T> ? T : never;

const rawMethodAtLevel = fc.record({
  /** Above the method's first class: 0 keeps the parent's method, else overrides it. */
  override: fc.nat(2),
  lanes: fc.array(rawLane, { minLength: MAX_STATES, maxLength: MAX_STATES }),
  body: rawBody,
});

const rawMethod = fc.record({
  home: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(MAX_DEPTH) }),
  levels: fc.array(rawMethodAtLevel, { minLength: LEVELS, maxLength: LEVELS }),
});

const rawHook = fc.record({
  state: fc.nat(),
  kind: fc.nat(3),
  order: fc.nat(3),
  external: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  async: fc.boolean(),
  call: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.record({ ref: fc.nat(), swallow: fc.boolean() }) }),
});
type RawHook = typeof rawHook extends fc.Arbitrary<infer T> ? T : never;

const rawState = (values: fc.Arbitrary<V[]>) =>
  fc.record({
    values,
    ordered: fc.boolean(),
    slot: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    default: fc.option(fc.nat(), { nil: undefined }),
    initial: fc.nat(),
  });
type RawState = typeof rawState extends (v: fc.Arbitrary<V[]>) => fc.Arbitrary<infer T> ? T : never;

export const rawFlow = (o: FlowOptions) =>
  fc.record({
    states: fc.oneof({ weight: 2, arbitrary: fc.tuple(rawState(o.values ?? valuesArb())) }, { weight: 1, arbitrary: fc.array(rawState(o.values ?? valuesArb()), { minLength: 1, maxLength: MAX_STATES }) }),
    depth: fc.nat(MAX_DEPTH),
    level: fc.nat(MAX_DEPTH),
    methods: fc.array(rawMethod, { minLength: 1, maxLength: o.maxMethods ?? 4 }),
    hooks: fc.array(fc.array(rawHook, { maxLength: 3 }), { minLength: LEVELS, maxLength: LEVELS }),
    legacy: fc.array(fc.boolean(), { minLength: LEVELS, maxLength: LEVELS }),
  });
type RawFlow = typeof rawFlow extends (o: FlowOptions) => fc.Arbitrary<infer T> ? T : never;

// ---------------------------------------------------------------------------------------------
// From raw data to a FlowSpec

function pick<T>(list: readonly T[], n: number): T {
  return list[n % list.length]!;
}

function toState(r: RawState): StateSpec {
  const accessors = !r.slot;
  // initial: 0 → undefined, 1 → null, else a value. The private slot starts empty.
  const initial = !accessors || r.initial === 0 ? undefined : r.initial === 1 ? null : pick(r.values, r.initial - 2);
  let dflt = r.default === undefined ? undefined : pick(r.values, r.default);
  if (dflt === undefined && (initial === undefined || initial === null)) dflt = r.values[0];
  return { values: r.values, default: dflt, ordered: r.ordered, accessors, initial };
}

interface Shape {
  readonly states: readonly StateSpec[];
  readonly methods: readonly string[];
  readonly homes: readonly number[];
  readonly mode: Mode;
  readonly waits: boolean;
}

export function toFlow(raw: RawFlow, o: FlowOptions): FlowSpec {
  const states = raw.states.map(toState);
  const depth = raw.depth;
  const level = depth - Math.min(raw.level, depth);
  const methods = raw.methods.map((_, i) => NAMES[i]!);
  const homes = raw.methods.map((m, i) => (i === 0 ? 0 : Math.min(m.home, depth)));
  const shape: Shape = { states, methods, homes, mode: o.mode, waits: o.waits };
  const classes: ClassSpec[] = [];
  /** Per method: the States the lanes of its nearest declaration so far have. */
  const laneStates = methods.map(() => [] as number[]);
  for (let l = 0; l <= depth; l++) {
    const own: Record<string, MethodSpec> = {};
    raw.methods.forEach((m, i) => {
      const home = homes[i]!;
      if (home > l) return;
      const r = m.levels[l]!;
      if (home < l && r.override === 0) return;
      const inherited = laneStates[i]!;
      const lanes: LaneSpec[] = [];
      r.lanes.slice(0, states.length).forEach((lane, k) => {
        if (lane.mode === 0) return;
        if (lane.mode === 1 && inherited.includes(k)) lanes.push({ state: k, kind: 'inherit' });
        else lanes.push({ state: k, kind: 'transition', defs: toTable(shape, k, lane) });
      });
      if (lanes.length === 0) {
        if (inherited.length) inherited.forEach((k) => lanes.push({ state: k, kind: 'inherit' }));
        else lanes.push({ state: 0, kind: 'transition', defs: toTable(shape, 0, r.lanes[0]!) });
      }
      laneStates[i] = lanes.map((lane) => lane.state);
      own[methods[i]!] = { lanes, body: toBody(shape, r.body, l, i) };
    });
    classes.push({ mode: raw.legacy[l] ? 'legacy' : 'standard', methods: own, hooks: raw.hooks[l]!.map((h) => toHook(shape, h, l)) });
  }
  // A State no lane uses gets accessors, so that the class has definitions for it (waiters, questions).
  const used = new Set(classes.slice(0, level + 1).flatMap((c) => [...Object.values(c.methods).flatMap((m) => m.lanes.map((lane) => lane.state)), ...c.hooks.map((h) => h.state)]));
  return { states: states.map((s, k) => (used.has(k) || s.accessors ? s : { ...s, accessors: true })), methods, classes, level };
}

/** Stacked transitions get disjoint sources (a value already taken is dropped); ANY stands alone. */
function toTable(shape: Shape, state: number, r: RawLane): TransitionSpec[] {
  const { values } = shape.states[state]!;
  if (r.any) return [toDef(shape, state, r.defs[0]!, 'ANY')];
  const taken = new Set<V>();
  const out: TransitionSpec[] = [];
  for (const d of r.defs) {
    const sources = [...new Set(d.sources.map((n) => pick(values, n)))].filter((v) => !taken.has(v));
    if (sources.length === 0) continue;
    sources.forEach((v) => taken.add(v));
    out.push(toDef(shape, state, d, sources));
  }
  return out;
}

function toDef(shape: Shape, state: number, d: RawDef, sources: readonly V[] | 'ANY'): TransitionSpec {
  const { values, ordered } = shape.states[state]!;
  const target = d.noTarget ? undefined : pick(values, d.target);
  const from = sources === 'ANY' ? values : sources;
  const needsRewind = ordered && target !== undefined && from.some((s) => values.indexOf(s) > values.indexOf(target));
  return {
    sources,
    target,
    onError: d.onError === undefined ? undefined : pick(values, d.onError),
    conditions: d.conditions.map((reason) => (reason ? 'reason' : 'bool')),
    label: d.label,
    rewind: needsRewind || (ordered && d.extraRewind),
    bare: d.bare,
    permission: d.permission,
  };
}

/** Steps a body of method `i` in class `level` can take; a plain body in async mode cannot await, so it only waits. */
function toBody(shape: Shape, r: RawBody, level: number, i: number): BodySpec {
  const callable = shape.methods.filter((_, j) => j > i && shape.homes[j]! <= level);
  const steps: Step[] = [];
  for (const s of r.steps as RawStep[]) {
    if (s.kind === 0 && callable.length) steps.push({ kind: 'call', method: pick(callable, s.ref), swallow: s.swallow });
    else if (s.kind === 1 && level > shape.homes[i]!) steps.push({ kind: 'super', swallow: s.swallow });
    else if (s.kind === 2 && shape.waits) {
      const state = s.state % shape.states.length;
      const { values, ordered } = shape.states[state]!;
      steps.push({ kind: 'wait', state, value: pick(values, s.ref), atLeast: ordered && s.atLeast });
    }
  }
  let style: BodyStyle = 'sync';
  if (shape.mode === 'async') {
    style = (['async', 'promise', 'sync'] as const)[r.style]!;
    if (style === 'sync' && steps.some((s) => s.kind !== 'wait')) style = 'async';
  }
  return { style, steps };
}

function toHook(shape: Shape, h: RawHook, level: number): HookSpec {
  const callable = shape.methods.filter((_, j) => j > 0 && shape.homes[j]! <= level);
  const call = h.call !== undefined && callable.length ? { method: pick(callable, h.call.ref), swallow: h.call.swallow } : undefined;
  return {
    state: h.state % shape.states.length,
    kind: (['before', 'success', 'error', 'after'] as const)[h.kind] as HookKind,
    order: [undefined, 0, -1, 1][h.order],
    external: h.external,
    // An asynchronous hook is needed to await the transition it calls.
    async: shape.mode === 'async' && (h.async || call !== undefined),
    call,
  };
}

export const flowArb = (o: FlowOptions): fc.Arbitrary<FlowSpec> => rawFlow(o).map((raw) => toFlow(raw, o));

/** The methods an instance of class `level` (default: `spec.level`) has. */
export function methodsOf(spec: FlowSpec, level = spec.level): string[] {
  return spec.methods.filter((m) => spec.classes.slice(0, level + 1).some((c) => c.methods[m] !== undefined));
}

// ---------------------------------------------------------------------------------------------
// Scripts

export type Op =
  | { readonly op: 'call'; readonly method: string; readonly faults: readonly number[] }
  | { readonly op: 'wait'; readonly state: number; readonly value: V; readonly atLeast: boolean }
  | { readonly op: 'poke'; readonly state: number; readonly raw: unknown }
  | { readonly op: 'ask' };

/** Positions (within one call) of the invocations that fail. */
export const faultsArb: fc.Arbitrary<number[]> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<number[]>([]) },
  { weight: 3, arbitrary: fc.uniqueArray(fc.nat(12), { minLength: 1, maxLength: 2 }) },
);

export const rawOp = fc.record({
  kind: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.constant(3) }),
  ref: fc.nat(),
  state: fc.nat(),
  atLeast: fc.boolean(),
  faults: faultsArb,
});
export type RawOp = typeof rawOp extends fc.Arbitrary<infer T> ? T : never;

export function toCall(spec: FlowSpec, r: RawOp): Op & { op: 'call' } {
  return { op: 'call', method: pick(methodsOf(spec), r.ref), faults: r.faults };
}

export function toWait(spec: FlowSpec, r: RawOp): Op & { op: 'wait' } {
  const state = r.state % spec.states.length;
  const { values, ordered } = spec.states[state]!;
  return { op: 'wait', state, value: pick(values, r.ref), atLeast: ordered && r.atLeast };
}

/** 0 call, 1 wait, 2 ask (`available`/`can`), 3 poke a host field (accessors only; else ask). */
function toOp(spec: FlowSpec, r: RawOp): Op {
  if (r.kind === 0) return toCall(spec, r);
  if (r.kind === 1) return toWait(spec, r);
  const state = r.state % spec.states.length;
  const s = spec.states[state]!;
  if (r.kind === 3 && s.accessors) return { op: 'poke', state, raw: pick([...s.values, null, undefined, UNDECLARED], r.ref) };
  return { op: 'ask' };
}

/** Setter write positions (over the whole run) that fail, if they write a target. */
export const setterFaultsArb: fc.Arbitrary<number[]> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<number[]>([]) },
  { weight: 1, arbitrary: fc.uniqueArray(fc.nat(25), { minLength: 1, maxLength: 3 }) },
);

export interface Scenario {
  readonly flow: FlowSpec;
  readonly ops: readonly Op[];
  readonly setterFaults: readonly number[];
}

/** A flow and a script of outside operations on one instance of it. */
export const scenarioArb = (o: FlowOptions, maxOps = 10): fc.Arbitrary<Scenario> =>
  fc
    .record({ flow: rawFlow(o), ops: fc.array(rawOp, { minLength: 1, maxLength: maxOps }), setterFaults: setterFaultsArb })
    .map((r) => {
      const flow = toFlow(r.flow, o);
      return { flow, ops: r.ops.map((op) => toOp(flow, op)), setterFaults: r.setterFaults };
    });

export interface Round {
  /** Registered while the flow is idle, before the round's calls start. */
  readonly waits: readonly (Op & { op: 'wait' })[];
  /** Started concurrently, in an order (and at moments) the scheduler picks. */
  readonly calls: readonly (Op & { op: 'call' })[];
}

export interface RoundsScenario {
  readonly flow: FlowSpec;
  readonly rounds: readonly Round[];
}

/** A flow and rounds of concurrent outside calls, for `fc.scheduler()` to interleave. */
export const roundsArb = (o: FlowOptions): fc.Arbitrary<RoundsScenario> =>
  fc
    .record({
      flow: rawFlow(o),
      rounds: fc.array(fc.record({ waits: fc.array(rawOp, { maxLength: 2 }), calls: fc.array(rawOp, { minLength: 1, maxLength: 4 }) }), { minLength: 1, maxLength: 3 }),
    })
    .map((r) => {
      const flow = toFlow(r.flow, o);
      return { flow, rounds: r.rounds.map((round) => ({ waits: round.waits.map((w) => toWait(flow, w)), calls: round.calls.map((c) => toCall(flow, c)) })) };
    });

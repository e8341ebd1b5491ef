/**
 * The model: a flow described as plain data (`FlowSpec`), and an interpreter (`Model`) that says
 * what one call must do to it, written from the README (States through Ordered states and waiting) and the library's documented
 * choices, not from `src/`. The property tests build real classes from the same `FlowSpec`
 * (build.ts), run the same calls with the same injected faults, and compare.
 *
 * A flow has one or two `State`s. A method carries a lane of transitions per State it changes.
 *
 * What the model predicts for every call: the resulting states, the error (as a short key, see
 * `errorKey` in build.ts), the return value, whether the call returned a promise, and the trace:
 * every condition, hook, body and setter write, in order. It also predicts which waiters settle,
 * how, and not before which point of the trace.
 *
 * Faults are injected by position: every condition, hook and body invocation of a call is counted
 * per call id (the id travels as the transition's first argument, so chained calls and hooks know
 * it), and a fault at position n makes that invocation fail (a condition returns false, anything
 * else throws a `Fault`). Setter writes are counted over the whole run; only writes of a target
 * can be made to fail (a failing rollback write is swallowed: the state stays where it was).
 *
 * Where the contract is silent the model follows the library's choices: a throwing `before` hook
 * changes nothing (not even to `onError`'s value) and then runs the onError and after hooks; a
 * throwing `onSuccess` hook rolls back like the body; a throwing onError hook replaces the error;
 * a throwing after hook replaces the outcome; a failing setter writes nothing and its lane is not
 * rolled back; conditions run before input and hooks; a refused call runs no hook. And these,
 * written down here:
 * - A lane without target, on a throw, moves to `onError`'s value, else writes its source back
 *   only if a chained call moved its State ("the whole chain is undone").
 * - A rollback undoes what the call (and calls inside it) entered in the States it rolls back;
 *   changes to other States, or made before nothing was set (by a before hook's call), stand.
 * - Hooks of a call with several lanes run lane by lane, each lane's hooks in their order.
 * - A waiter registered during a call is decided when the outermost call ends: by the states the
 *   call entered and kept from the waiter's registration on (in order; the value the waiter found
 *   counts as one, and so does the value a rollback leaves a State in). States entered before it
 *   registered do not concern it, as for a waiter registered outside a call.
 */

export type V = string | number;
export type HookKind = 'before' | 'success' | 'error' | 'after';

export interface TransitionSpec {
  readonly sources: readonly V[] | 'ANY';
  readonly target: V | undefined;
  readonly onError: V | undefined;
  /** One entry per condition: how it reports failure (`false`, or `{ ok: false, reason }`). */
  readonly conditions: readonly ('bool' | 'reason')[];
  readonly label: string | undefined;
  readonly rewind: boolean;
  /** A single source written as a bare value rather than a one-element array. */
  readonly bare: boolean;
  /** The users `permission` allows (absent: everyone). */
  readonly permission: readonly string[] | undefined;
}

/** A method's transitions for one State: declared here, or `inherit()`ed unchanged from the parent's method. */
export type LaneSpec = { readonly state: number; readonly kind: 'transition'; readonly defs: readonly TransitionSpec[] } | { readonly state: number; readonly kind: 'inherit' };

export type Step =
  /** `this[method](cid)`; `swallow` catches its error and goes on. */
  | { readonly kind: 'call'; readonly method: string; readonly swallow: boolean }
  /** `superTransition(Parent, this)[sameMethod](cid)`. */
  | { readonly kind: 'super'; readonly swallow: boolean }
  /** `s.waitFor(this, value)` (or `waitForAtLeast`), not awaited. */
  | { readonly kind: 'wait'; readonly state: number; readonly value: V; readonly atLeast: boolean };

/** `sync`: a plain function; `async`: an `async function`; `promise`: a plain function returning a promise. */
export type BodyStyle = 'sync' | 'async' | 'promise';

export interface BodySpec {
  readonly style: BodyStyle;
  readonly steps: readonly Step[];
}

/** A method a class declares (or overrides): its lanes, in decorator order, and its body. */
export interface MethodSpec {
  readonly lanes: readonly LaneSpec[];
  readonly body: BodySpec;
}

export interface HookSpec {
  readonly state: number;
  readonly kind: HookKind;
  readonly order: number | undefined;
  /** Registered with `s.hook(Class, kind, fn)` instead of decorating a method. */
  readonly external: boolean;
  readonly async: boolean;
  /** Calls this transition, only when the hook runs for a transition listed before it (so it ends). */
  readonly call: { readonly method: string; readonly swallow: boolean } | undefined;
}

export interface ClassSpec {
  /** How the decorators are applied: TC39 `(value, context)` or `experimentalDecorators` `(proto, key, descriptor)`. */
  readonly mode: 'standard' | 'legacy';
  readonly methods: Readonly<Record<string, MethodSpec>>;
  readonly hooks: readonly HookSpec[];
}

export interface StateSpec {
  readonly values: readonly V[];
  readonly default: V | undefined;
  readonly ordered: boolean;
  /** Getter and setter on the base class, on `host[k]` (else the value lives in the flow's private slot). */
  readonly accessors: boolean;
  /** What the host field holds at first (accessors only; may be undefined or null). */
  readonly initial: unknown;
}

export interface FlowSpec {
  readonly states: readonly StateSpec[];
  /** Method names; a body or hook of `methods[i]` only calls `methods[j]` with j > i. */
  readonly methods: readonly string[];
  /** `classes[0]` is the base class, each next one extends the previous. */
  readonly classes: readonly ClassSpec[];
  /** The class of the flow instance (an index into `classes`). */
  readonly level: number;
}

/** Faults per call id: positions of the invocations that fail. */
export type Faults = ReadonlyMap<string, ReadonlySet<number>>;

export function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** The hook id used in traces: `H<level>.<index>`. */
export function hookId(level: number, index: number): string {
  return `H${level}.${index}`;
}

/** Thrown (by the model, and by the real classes' user code) where a fault is injected. */
export class Fault extends Error {
  constructor(readonly key: string) {
    super(`injected fault ${key}`);
  }
}

/** An error in the model, carrying the key the real error must have. */
class Failure {
  constructor(readonly key: string) {}
}

/** The expected result of one outside call. */
export interface Outcome {
  readonly error: string | undefined;
  readonly result: string | undefined;
  /** Whether the call returns a promise (some user code it ran directly returned one). */
  readonly promise: boolean;
  /** Trace entries this call added. */
  readonly trace: readonly string[];
  /** Per State: the host field (accessors) or the state (private slot) after the call. */
  readonly state: readonly unknown[];
}

export type WaiterStatus = { readonly status: 'pending' } | { readonly status: 'resolved' | 'rejected'; readonly how: string; readonly after: number };

interface ModelWaiter {
  readonly state: number;
  readonly value: V;
  readonly atLeast: boolean;
  /** Registered during a call: decided when that outermost call ends. */
  deferred: boolean;
  /** Kept entries numbered below this were entered before the waiter existed. */
  readonly from: number;
  outcome: WaiterStatus;
}

// ---------------------------------------------------------------------------------------------
// Definitions: what a class has

/** The nearest class at or above `level` that has its own `name` method. */
export function definingLevel(spec: FlowSpec, level: number, name: string): number | undefined {
  for (let l = level; l >= 0; l--) if (spec.classes[l]!.methods[name] !== undefined) return l;
  return undefined;
}

/** The lanes `name` has on an instance of class `level`, in order: an `inherit` takes the parent method's lane unchanged. */
export function lanesOf(spec: FlowSpec, level: number, name: string): { state: number; defs: readonly TransitionSpec[] }[] | undefined {
  const at = definingLevel(spec, level, name);
  if (at === undefined) return undefined;
  return spec.classes[at]!.methods[name]!.lanes.map((lane) =>
    lane.kind === 'transition' ? { state: lane.state, defs: lane.defs } : lanesOf(spec, at - 1, name)!.find((l) => l.state === lane.state)!,
  );
}

export function matches(def: TransitionSpec, value: V): boolean {
  return def.sources === 'ANY' || def.sources.includes(value);
}

/** Hooks of State `state` on class `level`, in run order: by `order`, parents first, decorated before external, then declaration. */
export function hooksInOrder(spec: FlowSpec, level: number, state: number): { id: string; hook: HookSpec }[] {
  const all: { id: string; hook: HookSpec; level: number; index: number }[] = [];
  for (let l = 0; l <= level; l++) {
    spec.classes[l]!.hooks.forEach((hook, index) => {
      if (hook.state === state) all.push({ id: hookId(l, index), hook, level: l, index });
    });
  }
  const key = (h: (typeof all)[number]) => [h.hook.order ?? 0, h.level, h.hook.external ? 1 : 0, h.index];
  all.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! - kb[i]!;
    return 0;
  });
  return all.map(({ id, hook }) => ({ id, hook }));
}

// ---------------------------------------------------------------------------------------------
// Calls

/** One lane of a running call: its State, its transition, where it started. */
interface Part {
  readonly state: number;
  readonly def: TransitionSpec;
  readonly source: V;
  /** `<method>:<source>><target>`, as hooks record their event. */
  readonly event: string;
}

export class Model {
  /** Per State: what the host field holds (or the private slot). */
  readonly raw: unknown[];
  readonly trace: string[] = [];
  /** Setter write positions where a fault was actually applied (for the real run to use). */
  readonly appliedSetterFaults = new Set<number>();
  readonly waiters: ModelWaiter[] = [];
  private readonly counts = new Map<string, number>();
  private writes = 0;
  private depth = 0;
  /** States entered and kept during the current outermost call, in order. */
  /** `owner`: the value a waiter found when it was made, which concerns that waiter only. */
  private kept: { state: number; value: V; seq: number; owner?: ModelWaiter }[] = [];
  /** Numbers kept entries in order of entry, across calls. */
  private seq = 0;
  /** Whether the current outermost call ran user code that returned a promise. */
  private promised = false;
  private readonly hooks: { id: string; hook: HookSpec }[][];

  constructor(
    readonly spec: FlowSpec,
    private readonly faults: Faults,
    private readonly setterFaults: ReadonlySet<number>,
  ) {
    this.raw = spec.states.map((s) => (s.accessors ? s.initial : undefined));
    this.hooks = spec.states.map((_, k) => hooksInOrder(spec, spec.level, k));
  }

  /** An outside call of `name` with call id `cid`. */
  call(cid: string, name: string): Outcome {
    const start = this.trace.length;
    // A method declared `async` reports every outcome as a promise, refusals included.
    const level = definingLevel(this.spec, this.spec.level, name);
    this.promised = level !== undefined && this.spec.classes[level]!.methods[name]!.body.style === 'async';
    this.depth++;
    let error: string | undefined;
    let result: string | undefined;
    try {
      result = this.invoke(cid, name);
    } catch (e) {
      error = (e as Failure).key;
    }
    this.depth--;
    this.endOfCall();
    return { error, result, promise: this.promised, trace: this.trace.slice(start), state: this.observed() };
  }

  /**
   * `s.waitFor(flow, value)` / `s.waitForAtLeast(...)`, from outside or from a body. Registered
   * inside a call, it is decided when the outermost call ends, and the value it found counts as
   * entered by the call unless a rollback of that State undoes it (the library's choice).
   */
  wait(state: number, value: V, atLeast: boolean): void {
    const w: ModelWaiter = { state, value, atLeast, deferred: this.depth > 0, from: this.seq, outcome: { status: 'pending' } };
    this.waiters.push(w);
    const current = this.current(state);
    // An unreadable State (an undeclared value) fails the wait at once, inside a call or not.
    if (current === undefined) w.outcome = { status: 'rejected', how: 'TypeError', after: this.trace.length };
    else if (w.deferred) this.kept.push({ state, value: current, seq: this.seq++, owner: w });
    else this.judge(w, current);
  }

  /** The host's field is set behind the flow's back (accessors only). Wakes nobody. */
  poke(state: number, raw: unknown): void {
    this.raw[state] = raw;
  }

  /** The current value of a State, or `undefined` when it cannot be read (`s.get` throws a TypeError). */
  current(state: number): V | undefined {
    try {
      return this.read(state);
    } catch {
      return undefined;
    }
  }

  /** What the test compares with the real flow, per State: the host's field, or the state. */
  observed(): unknown[] {
    return this.spec.states.map((s, k) => (s.accessors ? this.raw[k] : (this.raw[k] ?? s.default)));
  }

  private read(state: number): V {
    const s = this.spec.states[state]!;
    const raw = this.raw[state];
    const value = raw === undefined || raw === null ? s.default : raw;
    if (value === undefined || !s.values.includes(value as V)) throw new Failure('TypeError');
    return value as V;
  }

  /** Counts an invocation of user code; returns the fault to throw if one is injected there. */
  private hit(cid: string, entry: string): Failure | undefined {
    const n = this.counts.get(cid) ?? 0;
    this.counts.set(cid, n + 1);
    this.trace.push(`${cid}:${entry}`);
    return this.faults.get(cid)?.has(n) ? new Failure(`Fault(${cid}#${n})`) : undefined;
  }

  /** A write through the setter; a target write may fail, and then writes nothing. */
  private write(state: number, value: V, role: 'target' | 'rollback'): void {
    if (this.spec.states[state]!.accessors) {
      const n = this.writes++;
      this.trace.push(`set${state}:${show(value)}`);
      if (this.setterFaults.has(n)) {
        this.appliedSetterFaults.add(n);
        // A failed rollback write is swallowed by the runtime (the original error wins), but the
        // state stays where it is.
        throw new Failure(role === 'target' ? `Fault(set#${n})` : `RollbackFault(set#${n})`);
      }
    }
    this.raw[state] = value;
  }

  /** README, Transitions: the steps of a call. */
  private invoke(cid: string, name: string): string {
    const outer = this.depth === 1;
    const lanes = lanesOf(this.spec, this.spec.level, name)!;
    const bodyLevel = definingLevel(this.spec, this.spec.level, name)!;
    // 1. Each lane's State must be in a source of one of its transitions.
    const parts: Part[] = [];
    for (const lane of lanes) {
      const source = this.read(lane.state);
      const def = lane.defs.find((d) => matches(d, source));
      if (def === undefined) throw new Failure(`TNA(source ${name} ${show(source)})`);
      parts.push({ state: lane.state, def, source, event: `${name}:${show(source)}>${show(def.target ?? source)}` });
    }
    // 2. Conditions, lane by lane, in order: the first false one refuses.
    parts.forEach((p, k) => {
      const d = lanes[k]!.defs.indexOf(p.def);
      for (let i = 0; i < p.def.conditions.length; i++) {
        if (this.hit(cid, `cond:${name}:${p.state}.${d}.${i}`)) throw new Failure(`TNA(condition ${name} ${show(p.source)})`);
      }
    });
    const mark = this.kept.length;
    /** How many lanes passed step 4 (had their target written, or have none). */
    let set = 0;
    let outcome: { ok: true; result: string } | { ok: false; error: unknown };
    try {
      try {
        // 3. before hooks.
        for (const p of parts) for (const h of this.hooksOf(p.state, 'before')) this.runHook(cid, h, p.event, '', outer);
        // 4. The targets, before the body.
        for (const p of parts) {
          if (p.def.target !== undefined) {
            this.write(p.state, p.def.target, 'target');
            this.kept.push({ state: p.state, value: p.def.target, seq: this.seq++ });
          }
          set++;
        }
        // 5. The body.
        const result = this.body(cid, bodyLevel, name, outer);
        // 6. onSuccess hooks.
        for (const p of parts) for (const h of this.hooksOf(p.state, 'success')) this.runHook(cid, h, p.event, `=${result}`, outer);
        outcome = { ok: true, result };
      } catch (error) {
        // 5'. Undo, last lane first: what this call (and calls inside it) entered in the States it
        // rolls back is gone; each lane goes to its onError value, else back to its source (a lane
        // without target only has something to undo when a chained call moved its State).
        // A rollback write that fails leaves its State, and what was entered in it, as they are.
        for (let k = set - 1; k >= 0; k--) {
          const { state, def, source } = parts[k]!;
          try {
            if (def.onError !== undefined) this.write(state, def.onError, 'rollback');
            else if (def.target !== undefined || this.read(state) !== source) this.write(state, source, 'rollback');
          } catch {
            continue;
          }
          this.kept = this.kept.filter((e, i) => i < mark || e.state !== state);
          // Where the State is now (the onError value, or back at the source) counts for waiters.
          this.kept.push({ state, value: def.onError ?? source, seq: this.seq++ });
        }
        // onError hooks: one that throws replaces the error and ends the list.
        for (const p of parts) for (const h of this.hooksOf(p.state, 'error')) this.runHook(cid, h, p.event, `!${(error as Failure).key}`, outer);
        throw error;
      }
    } catch (error) {
      outcome = { ok: false, error };
    }
    // 7. after hooks, whatever happened; one that throws replaces the outcome and ends the list.
    try {
      for (const p of parts) for (const h of this.hooksOf(p.state, 'after')) this.runHook(cid, h, p.event, '', outer);
    } catch (error) {
      outcome = { ok: false, error };
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  }

  private hooksOf(state: number, kind: HookKind): { id: string; hook: HookSpec }[] {
    return this.hooks[state]!.filter((h) => h.hook.kind === kind);
  }

  private runHook(cid: string, { id, hook }: { id: string; hook: HookSpec }, event: string, extra: string, outer: boolean): void {
    if (outer && hook.async) this.promised = true;
    const fault = this.hit(cid, `${hook.kind}:${id}:${event}${extra}`);
    const transition = event.slice(0, event.indexOf(':'));
    if (hook.call !== undefined && this.spec.methods.indexOf(transition) < this.spec.methods.indexOf(hook.call.method)) {
      try {
        this.invoke(cid, hook.call.method);
      } catch (e) {
        if (!hook.call.swallow) throw e;
      }
    }
    if (fault) throw fault;
  }

  /** The body of `name` as class `level` declares it; returns what it returns. */
  private body(cid: string, level: number, name: string, outer: boolean): string {
    const body = this.spec.classes[level]!.methods[name]!.body;
    if (outer && body.style !== 'sync') this.promised = true;
    const fault = this.hit(cid, `body:${level}.${name}`);
    for (const step of body.steps) {
      if (step.kind === 'wait') {
        this.wait(step.state, step.value, step.atLeast);
        continue;
      }
      try {
        if (step.kind === 'call') this.invoke(cid, step.method);
        else this.body(cid, definingLevel(this.spec, level - 1, name)!, name, false);
      } catch (e) {
        if (!step.swallow) throw e;
      }
    }
    if (fault) throw fault;
    return `${level}.${name}`;
  }

  // -------------------------------------------------------------------------------------------
  // Waiters (README, Ordered states and waiting)

  /** Decides a waiter for a value its State is in now: resolve, reject as skipped, or keep waiting. */
  private judge(w: ModelWaiter, current: V): void {
    if (w.outcome.status !== 'pending') return;
    const { values, ordered } = this.spec.states[w.state]!;
    const later = ordered && values.indexOf(current) > values.indexOf(w.value);
    if (current === w.value || (w.atLeast && later)) {
      w.outcome = { status: 'resolved', how: show(w.value), after: this.trace.length };
    } else if (later) {
      w.outcome = { status: 'rejected', how: `StateSkipped(${show(w.value)} ${show(current)})`, after: this.trace.length };
    }
  }

  /**
   * The outermost call ended: waiters wake for each state it entered and kept, in order; those
   * registered during the call then judge the state it left.
   */
  private endOfCall(): void {
    for (const { state, value, seq, owner } of this.kept) {
      for (const w of this.waiters) if (w.state === state && seq >= w.from && (owner === undefined || owner === w)) this.judge(w, value);
    }
    this.kept = [];
    for (const w of this.waiters) w.deferred = false;
  }
}

/**
 * Builds real flow classes from a `FlowSpec` by applying the library's decorators as functions,
 * in either calling convention (TC39 `(value, context)` or `experimentalDecorators`
 * `(prototype, key, descriptor)`), and records what their user code does.
 */
import { State, StateSkipped, superTransition, TransitionNotAllowed } from 'transitional';
import { Fault, hookId, show, type BodySpec, type ClassSpec, type Faults, type FlowSpec, type HookSpec, type Step, type TransitionSpec, type V, type WaiterStatus } from './model.ts';

/** A flow instance: `host[k]` holds State k's value when the class has accessors for it. */
export type Flow = Record<string, any> & { host: unknown[] };
export type FlowClass = new (host: unknown[]) => Flow;
type Decorator = (...args: any[]) => any;

/** The reason every pending waiter is aborted with at the end of a run. */
export const ABORTED = { aborted: true };

/** The key a real error is compared by; the model produces the same keys. */
export function errorKey(e: unknown): string {
  if (e instanceof Fault) return `Fault(${e.key})`;
  if (e instanceof TransitionNotAllowed) {
    // The message must say which transition and which state (README, Transitions).
    const vague = e.message.includes(e.transition) && e.message.includes(show(e.state)) ? '' : ` vague message: ${e.message}`;
    return `TNA(${e.reason} ${e.transition} ${show(e.state)})${vague}`;
  }
  if (e instanceof StateSkipped) return `StateSkipped(${show(e.skipped)} ${show(e.state)})`;
  if (e instanceof TypeError) return 'TypeError';
  if (e === ABORTED) return 'Aborted';
  return `Unexpected(${e instanceof Error ? e.stack : String(e)})`;
}

/** Records user code as it runs and injects the faults. */
export class Recorder {
  readonly trace: string[] = [];
  private readonly counts = new Map<string, number>();
  private writes = 0;

  constructor(
    private readonly faults: Faults,
    private readonly setterFaults: ReadonlySet<number>,
  ) {}

  /** One invocation of a condition, hook or body; returns the fault to throw, if any. */
  hit(cid: string, entry: string): Fault | undefined {
    const n = this.counts.get(cid) ?? 0;
    this.counts.set(cid, n + 1);
    this.trace.push(`${cid}:${entry}`);
    return this.faults.get(cid)?.has(n) ? new Fault(`${cid}#${n}`) : undefined;
  }

  write(state: number, value: unknown): Fault | undefined {
    const n = this.writes++;
    this.trace.push(`set${state}:${show(value)}`);
    return this.setterFaults.has(n) ? new Fault(`set#${n}`) : undefined;
  }
}

export interface RealWaiter {
  outcome: WaiterStatus;
}

/** What the classes' user code needs from the test. */
export interface Env {
  readonly rec: Recorder;
  /** Awaited by asynchronous bodies and hooks: a microtask, or a step the fast-check scheduler orders. */
  readonly tick: (label: string) => Promise<unknown>;
  readonly waiters: RealWaiter[];
  readonly abort: AbortController;
  /** What condition `i` of transition `d` of `name`'s lane for `state` answers when asked outside a call (`can`, `available`); default true. */
  readonly ask?: (name: string, state: number, d: number, i: number) => boolean;
}

export interface Built {
  readonly states: State<V>[];
  readonly classes: FlowClass[];
  readonly flow: Flow;
}

/** Builds the classes of `spec`, registers external hooks, and makes an instance of class `spec.level`. */
export function build(spec: FlowSpec, env: Env): Built {
  const states = spec.states.map(
    (s, k) => new State(s.values, { ...(s.default !== undefined ? { default: s.default } : {}), ordered: s.ordered, name: `s${k}` }) as State<V>,
  );
  const classes: FlowClass[] = [];
  const externals: (() => void)[] = [];
  spec.classes.forEach((cls, level) => {
    const C: FlowClass =
      level === 0
        ? (class {
            constructor(readonly host: unknown[]) {}
          } as never)
        : (class extends (classes[level - 1] as new (host: unknown[]) => object) {} as never);
    Object.defineProperty(C, 'name', { value: `Flow${level}` });
    classes.push(C);
    const apply = applier(C, cls.mode, level === 0 ? undefined : classes[level - 1]);
    if (level === 0) {
      spec.states.forEach((s, k) => {
        if (!s.accessors) return;
        define(C, `read${k}`, function (this: Flow) {
          return this.host[k];
        });
        define(C, `write${k}`, function (this: Flow, value: V) {
          const fault = env.rec.write(k, value);
          if (fault) throw fault;
          this.host[k] = value;
        });
        apply(`read${k}`, [states[k]!.getter()]);
        apply(`write${k}`, [states[k]!.setter()]);
      });
    }
    for (const [name, method] of Object.entries(cls.methods)) {
      define(C, name, makeBody(classes, level, name, method.body, states, env));
      apply(
        name,
        method.lanes.flatMap((lane) => {
          const s = states[lane.state]!;
          return lane.kind === 'inherit' ? [s.inherit()] : lane.defs.map((def, d) => s.transition(transitionOptions(def, name, lane.state, d, env) as never));
        }),
      );
    }
    cls.hooks.forEach((hook, index) => {
      const s = states[hook.state]!;
      const fn = makeHook(spec, hook, hookId(level, index), s, env);
      const options = hook.order === undefined ? undefined : { order: hook.order };
      if (hook.external) {
        externals.push(() => s.hook(C, hook.kind, (event) => fn.call(event.flow, event), options));
      } else {
        const method = `h${level}_${index}`;
        define(C, method, fn);
        apply(method, [hook.kind === 'before' ? s.before(options) : hook.kind === 'success' ? s.onSuccess(options) : hook.kind === 'error' ? s.onError(options) : s.after(options)]);
      }
    });
  });
  // External hooks are registered once every class exists: they still apply to subclasses.
  for (const register of externals) register();
  return { states, classes, flow: new classes[spec.level]!(spec.states.map((s) => s.initial)) };
}

function define(C: Function, name: string, fn: Function): void {
  Object.defineProperty(C.prototype, name, { value: fn, writable: true, configurable: true, enumerable: false });
}

/** Applies decorators to a method of `C` the way each decorator mode would. */
function applier(C: Function, mode: ClassSpec['mode'], Parent: Function | undefined): (name: string, decorators: Decorator[]) => void {
  let metadata: object | undefined;
  if (mode === 'standard') {
    // What a TC39 class with decorators gets: one metadata object, chained to the parent's.
    const parentMeta = Parent ? ((Parent as any)[Symbol.metadata] as object | undefined) : undefined;
    metadata = Object.create(parentMeta ?? null) as object;
    Object.defineProperty(C, Symbol.metadata, { value: metadata, writable: true, configurable: true, enumerable: false });
  }
  return (name, decorators) => {
    for (const decorator of decorators) {
      if (mode === 'legacy') {
        const descriptor = Object.getOwnPropertyDescriptor(C.prototype, name)!;
        Object.defineProperty(C.prototype, name, decorator(C.prototype, name, descriptor) ?? descriptor);
      } else {
        const value = C.prototype[name] as Function;
        const context = { kind: 'method', name, static: false, private: false, metadata, addInitializer() {}, access: { has: () => true, get: () => value } };
        const out = decorator(value, context);
        if (typeof out === 'function') define(C, name, out);
      }
    }
  };
}

function transitionOptions(def: TransitionSpec, name: string, state: number, d: number, env: Env): Record<string, unknown> {
  const conditions = def.conditions.map((style, i) => (_flow: Flow, cid?: string) => {
    // Asked by can()/available(): no call, nothing to record.
    if (cid === undefined) return env.ask?.(name, state, d, i) ?? true;
    const fault = env.rec.hit(cid, `cond:${name}:${state}.${d}.${i}`);
    return style === 'bool' ? fault === undefined : { ok: fault === undefined, reason: fault ? `refused in ${cid}` : undefined };
  });
  const options: Record<string, unknown> = {
    source: def.sources === 'ANY' ? State.ANY : def.bare && def.sources.length === 1 ? def.sources[0] : def.sources,
  };
  if (def.target !== undefined) options.target = def.target;
  if (def.onError !== undefined) options.onError = def.onError;
  if (conditions.length) options.conditions = conditions;
  if (def.label !== undefined) options.label = def.label;
  if (def.rewind) options.rewind = true;
  if (def.permission !== undefined) {
    const users = def.permission;
    options.permission = (_flow: Flow, user: unknown) => users.includes(user as string);
  }
  return options;
}

export function registerWaiter(state: State<V>, flow: Flow, env: Env, value: V, atLeast: boolean): void {
  const waiter: RealWaiter = { outcome: { status: 'pending' } };
  env.waiters.push(waiter);
  const options = { signal: env.abort.signal };
  const promise = atLeast ? state.waitForAtLeast(flow, value, options) : state.waitFor(flow, value, options);
  promise.then(
    (v) => (waiter.outcome = { status: 'resolved', how: show(v), after: env.rec.trace.length }),
    (e) => (waiter.outcome = { status: 'rejected', how: errorKey(e), after: env.rec.trace.length }),
  );
}

function makeBody(classes: Function[], level: number, name: string, body: BodySpec, states: State<V>[], env: Env): Function {
  const entry = `body:${level}.${name}`;
  const result = `${level}.${name}`;
  const parent = () => classes[level - 1]! as never;
  if (body.style === 'sync') {
    return function (this: Flow, cid: string) {
      const fault = env.rec.hit(cid, entry);
      for (const step of body.steps) {
        if (step.kind === 'wait') registerWaiter(states[step.state]!, this, env, step.value, step.atLeast);
        else
          try {
            if (step.kind === 'call') this[step.method](cid);
            else (superTransition(parent(), this) as Flow)[name](cid);
          } catch (e) {
            if (!step.swallow) throw e;
          }
      }
      if (fault) throw fault;
      return result;
    };
  }
  const runStep = async (flow: Flow, cid: string, step: Step) => {
    if (step.kind === 'wait') return registerWaiter(states[step.state]!, flow, env, step.value, step.atLeast);
    try {
      if (step.kind === 'call') await flow[step.method](cid);
      else await (superTransition(parent(), flow) as Flow)[name](cid);
    } catch (e) {
      if (!step.swallow) throw e;
    }
    await env.tick(`${entry} step`);
  };
  const run = async (flow: Flow, cid: string) => {
    const fault = env.rec.hit(cid, entry);
    await env.tick(entry);
    for (const step of body.steps) await runStep(flow, cid, step);
    if (fault) throw fault;
    return result;
  };
  return body.style === 'async'
    ? async function (this: Flow, cid: string) {
        return run(this, cid);
      }
    : function (this: Flow, cid: string) {
        return run(this, cid); // a plain function that returns a promise
      };
}

function makeHook(spec: FlowSpec, hook: HookSpec, id: string, state: State<V>, env: Env): (this: unknown, event: any) => unknown {
  const describe = (e: any, self: unknown) => {
    // A hook of State k gets the event of that State's lane, about the flow it runs on.
    const wrong = e.state !== state ? ' WRONG STATE IN EVENT' : self !== e.flow ? ' WRONG FLOW' : '';
    const base = `${hook.kind}:${id}:${e.transition}:${show(e.source)}>${show(e.target)}${wrong}`;
    return hook.kind === 'success' ? `${base}=${String(e.result)}` : hook.kind === 'error' ? `${base}!${errorKey(e.error)}` : base;
  };
  const call = hook.call;
  const calls = (e: any) => call !== undefined && spec.methods.indexOf(e.transition) < spec.methods.indexOf(call.method);
  if (!hook.async) {
    return function (this: unknown, event) {
      const cid = event.args[0] as string;
      const fault = env.rec.hit(cid, describe(event, this));
      if (calls(event))
        try {
          event.flow[call!.method](cid);
        } catch (e) {
          if (!call!.swallow) throw e;
        }
      if (fault) throw fault;
    };
  }
  return async function (this: unknown, event) {
    const cid = event.args[0] as string;
    const fault = env.rec.hit(cid, describe(event, this));
    await env.tick(id);
    if (calls(event))
      try {
        await event.flow[call!.method](cid);
      } catch (e) {
        if (!call!.swallow) throw e;
      }
    if (fault) throw fault;
  };
}

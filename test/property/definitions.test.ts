/**
 * Definitions: random flow classes (with inheritance) give `transitions()`, `available()`,
 * `can()`, `hasPermission()`, `toDot()` and `toMermaid()` answers that agree with each other and
 * with the model; invalid definitions throw a `TypeError` naming the offending value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { State, toDot, toMermaid } from 'transitional';
import { METHOD_LABELS, methodsOf, rawFlow, toFlow, valueArb } from './arbitraries.ts';
import { build, Recorder } from './build.ts';
import { check, explain, newEnv, stats } from './harness.ts';
import { lanesOf, matches, show, type FlowSpec, type V } from './model.ts';

const USERS = ['ann', 'bob', 'eve'];

/** Values whose texts differ (a diagram shows `0` and `'0'` alike), without control characters. */
const diagramValues = fc.uniqueArray(valueArb, { minLength: 2, maxLength: 6, selector: (v) => String(v).replace(/\s+/g, ' ').trim() });

const scenario = fc
  .record({
    flow: rawFlow({ mode: 'sync', waits: false, values: diagramValues }),
    answers: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
    /** Where the other State stands while one State's values are walked through. */
    others: fc.array(fc.nat(), { minLength: 2, maxLength: 2 }),
  })
  .map(({ flow, answers, others }) => {
    const spec = toFlow(flow, { mode: 'sync', waits: false });
    return { flow: { ...spec, states: spec.states.map((s) => ({ ...s, accessors: true })) } as FlowSpec, answers, others };
  });

/** What condition `i` of transition `d` of `name`'s lane for `state` answers outside a call. */
function answer(answers: readonly boolean[], name: string, state: number, d: number, i: number): boolean {
  let h = 0;
  for (const ch of `${name}:${state}.${d}.${i}`) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return answers[h % answers.length]!;
}

/** The lane of `name` for State `k` on class `level`, if it has one. */
function laneOf(spec: FlowSpec, level: number, name: string, k: number) {
  return lanesOf(spec, level, name)!.find((l) => l.state === k);
}

const record = (t: { name: string; source: readonly V[] | 'ANY'; target: V | undefined; label: string; onError: V | undefined; rewind: boolean; conditions: number; permission: boolean }) =>
  JSON.stringify({ ...t, source: t.source === 'ANY' ? 'ANY' : [...t.source].map(show).sort(), target: show(t.target), onError: show(t.onError) });

/** The model's `s.transitions(Class)`: every method the class has with a lane for `s`, as that lane resolves. */
function modelTransitions(spec: FlowSpec, level: number, k: number): string[] {
  return methodsOf(spec, level)
    .flatMap((name) =>
      (laneOf(spec, level, name, k)?.defs ?? []).map((d) =>
        record({ name, source: d.sources, target: d.target, label: d.label ?? METHOD_LABELS[name]!, onError: d.onError, rewind: d.rewind, conditions: d.conditions.length, permission: d.permission !== undefined }),
      ),
    )
    .sort();
}

function realTransitions(state: State<V>, C: Function): string[] {
  return state
    .transitions(C as never)
    .map((t) =>
      record({
        name: t.name,
        source: t.source === State.ANY ? 'ANY' : (t.source as readonly V[]),
        target: t.target as V | undefined, // no target functions in generated definitions
        label: t.label,
        onError: t.onError,
        rewind: t.rewind,
        conditions: t.conditions.length,
        permission: t.permission !== undefined,
      }),
    )
    .sort();
}

/** Numbers first, numerically; then strings by code unit. */
function byValue(a: V, b: V): number {
  if (typeof a === 'number') return typeof b === 'number' ? a - b : -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The arrows a diagram of State `k` must draw: ANY from every other state, none without target,
 * plus one to each `onError` value labelled "<label> (error)" (dashed in DOT), each once.
 */
function modelEdges(spec: FlowSpec, level: number, k: number): { source: V; target: V; label: string; error: boolean }[] {
  const seen = new Map<string, { source: V; target: V; label: string; error: boolean }>();
  const add = (sources: readonly V[] | 'ANY', target: V, label: string, error: boolean) => {
    for (const source of sources === 'ANY' ? spec.states[k]!.values.filter((v) => v !== target) : sources) {
      seen.set(JSON.stringify([source, target, label, error]), { source, target, label, error });
    }
  };
  for (const name of methodsOf(spec, level)) {
    for (const d of laneOf(spec, level, name, k)?.defs ?? []) {
      const label = d.label ?? METHOD_LABELS[name]!;
      if (d.target !== undefined) add(d.sources, d.target, label, false);
      if (d.onError !== undefined) add(d.sources, d.onError, `${label} (error)`, true);
    }
  }
  return [...seen.values()];
}

const dotString = (text: string) => `"${text.replace(/[\\"]/g, '\\$&')}"`;

function modelDot(spec: FlowSpec, level: number, k: number): string {
  const lines = ['digraph {'];
  for (const v of [...spec.states[k]!.values].sort(byValue)) lines.push(`${dotString(String(v))} [label=${dotString(String(v))}];`);
  const edges = modelEdges(spec, level, k).sort((a, b) => byValue(a.source, b.source) || byValue(a.target, b.target) || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  for (const e of edges) lines.push(`${dotString(String(e.source))} -> ${dotString(String(e.target))} [label=${dotString(e.label)}${e.error ? ', style=dashed' : ''}];`);
  lines.push('}');
  return lines.join('\n');
}

/** Reads a Mermaid diagram back: its states (through aliases) and arrows, as value texts. */
function readMermaid(text: string): { start: string | undefined; states: string[]; edges: string[] } {
  const decode = (s: string) => s.replace(/#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)));
  const lines = text.split('\n');
  assert.equal(lines[0], 'stateDiagram-v2');
  const names = new Map<string, string>();
  const states: string[] = [];
  const edges: [string, string, string][] = [];
  let start: string | undefined;
  for (const raw of lines.slice(1)) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^\[\*\] --> (\S+)$/.exec(line))) start = m[1];
    else if ((m = /^state "(.*)" as (\S+)$/.exec(line))) {
      names.set(m[2]!, decode(m[1]!));
      states.push(decode(m[1]!));
    } else if ((m = /^(\S+) --> (\S+?)(?:: (.*))?$/.exec(line))) edges.push([m[1]!, m[2]!, decode(m[3] ?? '')]);
    else if (/^\S+$/.test(line)) {
      names.set(line, line);
      states.push(line);
    } else assert.fail(`unexpected Mermaid line: ${JSON.stringify(line)}`);
  }
  const name = (id: string) => names.get(id) ?? assert.fail(`Mermaid names an undeclared state id ${id}`);
  return { start: start === undefined ? undefined : name(start), states: states.sort(), edges: edges.map(([s, t, l]) => JSON.stringify([name(s), name(t), l])).sort() };
}

const text = (v: V) => String(v).replace(/\s+/g, ' ').trim();

test('transitions(), available(), can(), hasPermission() and the diagrams agree with the model', async () => {
  await check(
    'definitions',
    300,
    fc.asyncProperty(scenario, async ({ flow: spec, answers, others }) => {
      stats.runs++;
      try {
        const ask = (name: string, state: number, d: number, i: number) => answer(answers, name, state, d, i);
        const { states, classes } = build(spec, { ...newEnv(new Recorder(new Map(), new Set()), () => Promise.resolve()), ask });
        classes.forEach((C, level) => {
          spec.states.forEach((sk, k) => {
            const state = states[k]!;
            const at0 = `s${k}, Flow${level}`;
            assert.deepEqual(realTransitions(state, C), modelTransitions(spec, level, k), `${at0}: transitions()`);
            for (const v of sk.values) {
              const host = spec.states.map((s, j) => (j === k ? v : s.values[others[j]! % s.values.length]!));
              const flow = new C(host);
              const at = `${at0}, in [${host.map(show).join(', ')}]`;
              // A method is available when every lane has a transition from where its State is, and all their conditions pass.
              const mine = methodsOf(spec, level).flatMap((name) => {
                const lane = laneOf(spec, level, name, k);
                if (lane === undefined) return [];
                const ok = lanesOf(spec, level, name)!.every((l) => {
                  const d = l.defs.findIndex((t) => matches(t, host[l.state] as V));
                  return d >= 0 && l.defs[d]!.conditions.every((_, i) => answer(answers, name, l.state, d, i));
                });
                return [{ name, ok, def: lane.defs.find((t) => matches(t, v)) }];
              });
              const possible = mine.filter((m) => m.ok);
              assert.deepEqual(state.available(flow).map((t) => t.name).sort(), possible.map((p) => p.name).sort(), `${at}: available()`);
              for (const { name, ok } of mine) assert.equal(state.can(flow, name as never), ok, `${at}: can(${name})`);
              for (const user of USERS) {
                const allowed = possible.filter(({ def }) => def!.permission === undefined || def!.permission.includes(user));
                assert.deepEqual(state.available(flow, { user }).map((t) => t.name).sort(), allowed.map((p) => p.name).sort(), `${at}: available({ user: ${user} })`);
                for (const { name, def } of mine) {
                  if (def !== undefined) assert.equal(state.hasPermission(flow, name as never, user), def.permission === undefined || def.permission.includes(user), `${at}: hasPermission(${name}, ${user})`);
                }
              }
            }
            assert.equal(toDot(C as never, state), modelDot(spec, level, k), `${at0}: toDot()`);
            const mermaid = readMermaid(toMermaid(C as never, state));
            assert.deepEqual(mermaid.states, sk.values.map(text).sort(), `${at0}: toMermaid() states`);
            if (mermaid.start !== undefined) assert.equal(mermaid.start, sk.default === undefined ? undefined : text(sk.default), `${at0}: toMermaid() start`);
            assert.deepEqual(mermaid.edges, modelEdges(spec, level, k).map((e) => JSON.stringify([text(e.source), text(e.target), e.label])).sort(), `${at0}: toMermaid() arrows`);
          });
        });
      } catch (e) {
        throw explain(e, spec, [], []);
      }
    }),
  );
});

/** A class with one decorated method, the decorators applied as `experimentalDecorators` would. */
function define(decorators: ((...args: any[]) => any)[]): Function {
  const C = class {
    go() {}
  };
  for (const decorator of decorators) {
    const d = Object.getOwnPropertyDescriptor(C.prototype, 'go')!;
    Object.defineProperty(C.prototype, 'go', decorator(C.prototype, 'go', d) ?? d);
  }
  return C;
}

const undeclaredArb = fc
  .record({ values: fc.uniqueArray(valueArb, { minLength: 1, maxLength: 5, comparator: 'SameValueZero' }), stranger: valueArb, where: fc.constantFrom('source', 'sources', 'target', 'onError') })
  .filter(({ values, stranger }) => !values.includes(stranger));

test('a definition naming an undeclared value throws a TypeError naming it', async () => {
  await check(
    'undeclared-values',
    100,
    fc.asyncProperty(undeclaredArb, async ({ values, stranger, where }) => {
      const s = new State(values);
      const known = values[0]!;
      const options =
        where === 'source' ? { source: stranger } : where === 'sources' ? { source: [known, stranger] } : where === 'target' ? { source: known, target: stranger } : { source: known, onError: stranger };
      assert.throws(
        () => define([s.transition(options as never)]),
        (e: unknown) => e instanceof TypeError && e.message.includes(show(stranger)),
      );
    }),
  );
});

test('ordered States refuse a target before its source unless rewind: true; stacked sources must be distinct', async () => {
  await check(
    'ordered-and-stacked',
    100,
    fc.asyncProperty(fc.uniqueArray(valueArb, { minLength: 2, maxLength: 5, comparator: 'SameValueZero' }), fc.nat(), fc.nat(), async (values, i, j) => {
      const a = values[i % values.length]!;
      const b = values[j % values.length]!;
      const ordered = new State(values, { ordered: true });
      const backwards = values.indexOf(b) < values.indexOf(a);
      const forward = () => define([ordered.transition({ source: a, target: b })]);
      if (backwards) {
        assert.throws(forward, TypeError, `${show(a)} -> ${show(b)} goes back`);
        define([ordered.transition({ source: a, target: b, rewind: true })]);
      } else forward();
      const s = new State(values);
      assert.throws(() => define([s.transition({ source: a, target: b }), s.transition({ source: [b, a], target: a })]), TypeError, 'the same source stacked twice');
      assert.throws(() => define([s.transition({ source: State.ANY, target: b }), s.transition({ source: a, target: a })]), TypeError, 'ANY stacked with another source');
    }),
  );
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State, toDot, toMermaid } from 'transitional';
import { parseMermaid } from './mermaid-parser.ts';
import { delivery, Dimmer, Door, Order, payment, SmartDimmer, TrafficLight, Tricky, tricky } from './fixtures/flows.ts';

const lines = (...l: string[]) => l.join('\n');

describe('toMermaid: output', () => {
  test('stateDiagram-v2, the initial state from `default`, states in declaration order, labelled arrows', () => {
    assert.equal(
      toMermaid(TrafficLight),
      lines(
        'stateDiagram-v2',
        '    [*] --> red',
        '    green',
        '    yellow',
        '    red',
        '    green --> yellow: Slow down',
        '    yellow --> red: Stop',
        '    red --> green: Go #34;now#34;',
      ),
    );
  });

  test('values that are not identifiers (numbers, 0 included) are drawn through aliases; no default, no [*]', () => {
    assert.equal(
      toMermaid(Dimmer),
      lines(
        'stateDiagram-v2',
        '    [*] --> s0',
        '    state "0" as s0',
        '    state "2" as s1',
        '    state "10" as s2',
        '    s0 --> s1: Dim',
        '    s1 --> s0: Switch off',
        '    s1 --> s2: Brighten',
        '    s2 --> s0: Switch off',
      ),
    );
    assert.ok(!toMermaid(Door).includes('[*]'), 'Door has no default state');
  });

  test('an ordered State is laid out in declaration order, its rewind drawn back to an earlier state', () => {
    const out = toMermaid(Tricky).split('\n');
    const declared = out.slice(2, 2 + tricky.values.length);
    assert.equal(declared.length, 14);
    assert.deepEqual(declared.slice(0, 2), ['    state "in review" as s0', '    state "end" as s1']);
    assert.equal(declared.at(-1), '    done');
    assert.equal(out.at(-1), '    done --> s0: Again');
  });

  test('each State of a class with several, chosen by argument; without one, a TypeError naming them', () => {
    assert.equal(toMermaid(Order, payment), lines('stateDiagram-v2', '    [*] --> unpaid', '    unpaid', '    paid', '    unpaid --> paid: Pay'));
    assert.equal(toMermaid(Order, delivery), lines('stateDiagram-v2', '    [*] --> waiting', '    waiting', '    shipped', '    waiting --> shipped: Ship'));
    assert.throws(() => toMermaid(Order), (e: unknown) => e instanceof TypeError && /Order has 2 States \(payment, delivery\)/.test(e.message));
  });
});

/** What a reader of the rendered diagram sees, from the definitions: `[*]`, the states, the arrows. */
function expected(dot: string, defaultLabel: string | undefined) {
  const unquote = (s: string) => JSON.parse(s.replace(/\\n/g, ' ')) as string;
  const nodes: string[] = [];
  const edges: string[] = [];
  for (const line of dot.split('\n')) {
    const node = /^("(?:[^"\\]|\\.)*") \[label=/.exec(line);
    const edge = /^("(?:[^"\\]|\\.)*") -> ("(?:[^"\\]|\\.)*") \[label=("(?:[^"\\]|\\.)*")\];$/.exec(line);
    if (edge) edges.push(`${unquote(edge[1]!)} -> ${unquote(edge[2]!)}: ${unquote(edge[3]!)}`);
    else if (node) nodes.push(unquote(node[1]!));
  }
  if (defaultLabel !== undefined) edges.push(`[*] -> ${defaultLabel}`);
  return { nodes: (defaultLabel !== undefined ? ['[*]', ...nodes] : nodes).sort(), edges: edges.sort() };
}

describe('toMermaid: accepted by Mermaid\'s own parser (mermaid package, stateDiagram-v2 grammar)', () => {
  const cases: [string, () => string, string, string | undefined][] = [
    ['TrafficLight', () => toMermaid(TrafficLight), toDot(TrafficLight), 'red'],
    ['Door (State.ANY, no target)', () => toMermaid(Door), toDot(Door), undefined],
    ['Dimmer (numbers)', () => toMermaid(Dimmer), toDot(Dimmer), '0'],
    ['SmartDimmer (inheritance)', () => toMermaid(SmartDimmer), toDot(SmartDimmer), '0'],
    ['Order, delivery', () => toMermaid(Order, delivery), toDot(Order, delivery), 'waiting'],
    ['Tricky (spaces, keywords, quotes, ; # %% << [[ in names and labels)', () => toMermaid(Tricky), toDot(Tricky), 'in review'],
  ];
  for (const [name, draw, dot, start] of cases) {
    test(`${name}: parses, and shows exactly the states and labelled arrows of the flow`, async () => {
      const parsed = await parseMermaid(draw());
      assert.equal(parsed.type, 'stateDiagram');
      const want = expected(dot, start);
      assert.deepEqual([...parsed.nodes.values()].sort(), want.nodes);
      assert.deepEqual([...parsed.edges].sort(), want.edges);
      for (const [id, shape] of parsed.shapes) assert.equal(shape, id === 'root_start' ? 'stateStart' : 'rect', `shape of ${parsed.nodes.get(id)}`);
    });
  }

  test('Mermaid keywords and look-alikes as state values', async () => {
    const words = ['state', 'note', 'end', 'direction', 'click', 'href', 'default', 'scale', 'classDef', 'class', 'style', 'hide', 'accTitle', 'accDescr', 'stateDiagram', 'as', 'TB', 'LR', 'left', 'right', 'of', 'fork', 'choice', 'S0', 's1', 'root_start', 'root_end', 'click_me'] as const;
    const s = new State(words, { default: 'state' });
    class Keywords {
      @s.transition({ source: State.ANY, target: 'end', label: 'hide empty description' }) finish() {}
      @s.transition({ source: 'end', target: 'direction', label: 'direction LR' }) turn() {}
    }
    const parsed = await parseMermaid(toMermaid(Keywords));
    const want = expected(toDot(Keywords), 'state');
    assert.deepEqual([...parsed.nodes.values()].sort(), want.nodes);
    assert.deepEqual([...parsed.edges].sort(), want.edges);
  });

  test('the checker itself rejects what Mermaid rejects', async () => {
    await assert.rejects(parseMermaid('stateDiagram-v2\n    a --> --> b'), /Parse error/);
    await assert.rejects(parseMermaid('stateDiagram-v2\n    state "a "b" as s0'), /Parse error/);
  });
});

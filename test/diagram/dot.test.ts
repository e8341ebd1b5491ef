import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State, toDot } from 'transitional';
import { delivery, Dimmer, Door, door, Order, OnlyAccessors, Plain, SmartDimmer, TrafficLight, Unnamed } from './fixtures/flows.ts';

const lines = (...l: string[]) => l.join('\n');

describe('toDot: the exact format the README gives (Diagrams and the CLI)', () => {
  test('three states and three edges: states sorted by value, edges by source, target, label', () => {
    assert.equal(
      toDot(TrafficLight),
      lines(
        'digraph {',
        '"green" [label="green"];',
        '"red" [label="red"];',
        '"yellow" [label="yellow"];',
        '"green" -> "yellow" [label="Slow down"];',
        '"red" -> "green" [label="Go \\"now\\""];',
        '"yellow" -> "red" [label="Stop"];',
        '}',
      ),
    );
  });

  test('State.ANY is an edge from every other state; no target draws nothing; several sources give one edge each', () => {
    // lock: State.ANY → locked (no locked → locked self-loop); knock: no target; force: closed|locked → open.
    assert.equal(
      toDot(Door),
      lines(
        'digraph {',
        '"closed" [label="closed"];',
        '"locked" [label="locked"];',
        '"open" [label="open"];',
        '"closed" -> "locked" [label="Lock"];',
        '"closed" -> "open" [label="Force open"];',
        '"locked" -> "open" [label="Force open"];',
        '"open" -> "closed" [label="Close"];',
        '"open" -> "locked" [label="Lock"];',
        '}',
      ),
    );
  });

  test('a numeric enum, 0 included, sorts numerically (2 before 10)', () => {
    assert.equal(
      toDot(Dimmer),
      lines(
        'digraph {',
        '"0" [label="0"];',
        '"2" [label="2"];',
        '"10" [label="10"];',
        '"0" -> "2" [label="Dim"];',
        '"2" -> "0" [label="Switch off"];',
        '"2" -> "10" [label="Brighten"];',
        '"10" -> "0" [label="Switch off"];',
        '}',
      ),
    );
  });

  test('inherited transitions are drawn, a redeclared one replaces its parent, duplicate edges appear once', () => {
    // SmartDimmer.brighten now goes 10 → 2; its new `wake` (0 → 2, "Dim") duplicates the inherited `dim`.
    assert.equal(
      toDot(SmartDimmer),
      lines(
        'digraph {',
        '"0" [label="0"];',
        '"2" [label="2"];',
        '"10" [label="10"];',
        '"0" -> "2" [label="Dim"];',
        '"2" -> "0" [label="Switch off"];',
        '"10" -> "0" [label="Switch off"];',
        '"10" -> "2" [label="Brighten"];',
        '}',
      ),
    );
  });

  test('same source and target with two labels: both edges, sorted by label', () => {
    const s = new State(['a', 'b'] as const);
    class Twice {
      @s.transition({ source: 'a', target: 'b', label: 'Zeta' }) z() {}
      @s.transition({ source: 'a', target: 'b', label: 'Alpha' }) y() {}
      @s.transition({ source: 'a', target: 'a' }) stay() {}
    }
    assert.equal(
      toDot(Twice),
      lines('digraph {', '"a" [label="a"];', '"b" [label="b"];', '"a" -> "a" [label="Stay"];', '"a" -> "b" [label="Alpha"];', '"a" -> "b" [label="Zeta"];', '}'),
    );
  });

  test('strings sort by code unit, not locale; quotes, backslashes and line breaks are escaped', () => {
    const s = new State(['b', 'B', 'a\\b', 'Ä', 'say "hi"'] as const);
    class Odd {
      @s.transition({ source: 'a\\b', target: 'say "hi"', label: 'Line one\nline "two" \\o/' }) go() {}
    }
    assert.equal(
      toDot(Odd),
      lines(
        'digraph {',
        '"B" [label="B"];',
        '"a\\\\b" [label="a\\\\b"];',
        '"b" [label="b"];',
        '"say \\"hi\\"" [label="say \\"hi\\""];',
        '"Ä" [label="Ä"];',
        '"a\\\\b" -> "say \\"hi\\"" [label="Line one\\nline \\"two\\" \\\\o/"];',
        '}',
      ),
    );
  });

  test('a State without transitions on the class still lists its states', () => {
    assert.equal(toDot(OnlyAccessors), lines('digraph {', '"idle" [label="idle"];', '}'));
  });
});

describe('toDot: which State', () => {
  test('a class with several States needs the State, and the error names them', () => {
    assert.throws(() => toDot(Order), (e: unknown) => e instanceof TypeError && /Order has 2 States \(payment, delivery\)/.test(e.message));
    assert.throws(() => toDot(Unnamed), (e: unknown) => e instanceof TypeError && /Unnamed has 2 States \(state, state\)/.test(e.message));
    assert.equal(toDot(Order, delivery), lines('digraph {', '"shipped" [label="shipped"];', '"waiting" [label="waiting"];', '"waiting" -> "shipped" [label="Ship"];', '}'));
  });

  test('a State the class does not use, or a class without States, is a TypeError', () => {
    assert.throws(() => toDot(TrafficLight, door), (e: unknown) => e instanceof TypeError && /TrafficLight has no definitions for State\(door\) \(its States: light\)/.test(e.message));
    assert.throws(() => toDot(Plain), (e: unknown) => e instanceof TypeError && /Plain is not a flow class/.test(e.message));
  });

  test('a subclass without decorators of its own draws its parent\'s transitions', () => {
    class Plainer extends TrafficLight {}
    assert.equal(toDot(Plainer), toDot(TrafficLight));
  });
});

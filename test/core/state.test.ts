/** `new State(values, options)`: which values are declared, `default`, `has`, `indexOf` (README, States). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State } from 'transitional';

enum Color { Red = 'red', Green = 'green', Blue = 'blue' }
enum Level { Low, Mid, High }
enum Code { Ok = 200, NotFound = 404 }
enum Mixed { Zero = 0, Text = 'text' }
enum Empty {}

describe('new State(values)', () => {
  test('a string enum declares its values in declaration order', () => {
    const s = new State(Color);
    assert.deepEqual(s.values, ['red', 'green', 'blue']);
    assert.equal(s.default, undefined);
  });

  test('a numeric enum declares its numbers; reverse mappings are ignored', () => {
    const s = new State(Level);
    assert.deepEqual(s.values, [0, 1, 2]);
    assert.equal(s.has('Low'), false);
    assert.equal(s.has('0'), false);
  });

  test('a numeric enum with explicit values', () => {
    const s = new State(Code, { default: Code.Ok });
    assert.deepEqual(s.values, [200, 404]);
    assert.equal(s.default, 200);
    assert.equal(s.has('Ok'), false);
  });

  test('a heterogeneous enum keeps both kinds of values and drops the reverse mapping', () => {
    const s = new State(Mixed);
    assert.deepEqual(s.values, [0, 'text']);
  });

  test('0 is a value like any other, and may be the default', () => {
    const s = new State(Level, { default: Level.Low });
    assert.equal(s.default, 0);
    assert.equal(s.has(0), true);
    assert.equal(s.indexOf(Level.Low), 0);
  });

  test('a literal array of strings, in order', () => {
    const s = new State(['draft', 'open', 'closed'] as const, { default: 'draft' });
    assert.deepEqual(s.values, ['draft', 'open', 'closed']);
    assert.equal(s.default, 'draft');
  });

  test('a literal array of numbers, 0 included', () => {
    const s = new State([0, 1, 2] as const, { default: 0 });
    assert.deepEqual(s.values, [0, 1, 2]);
    assert.equal(s.default, 0);
  });

  test('the declared values cannot be changed afterwards', () => {
    const source = ['a', 'b'];
    const s = new State(source);
    source.push('c');
    assert.deepEqual(s.values, ['a', 'b']);
    assert.throws(() => (s.values as string[]).push('d'), TypeError);
  });

  test('ordered defaults to false, and is set by options.ordered', () => {
    assert.equal(new State(['a', 'b'] as const).ordered, false);
    assert.equal(new State(['a', 'b'] as const, { ordered: true }).ordered, true);
  });
});

describe('new State(values): bad input is a TypeError', () => {
  test('a default that is not declared, naming it', () => {
    assert.throws(() => new State(['a', 'b'] as const, { default: 'c' as never }), (e: unknown) => e instanceof TypeError && /"c"/.test(e.message));
    assert.throws(() => new State(Level, { default: 7 as never }), (e: unknown) => e instanceof TypeError && /\b7\b/.test(e.message));
  });

  test('a value declared twice, naming it', () => {
    assert.throws(() => new State(['a', 'b', 'a']), (e: unknown) => e instanceof TypeError && /"a"/.test(e.message));
  });

  test('no values at all', () => {
    assert.throws(() => new State([]), TypeError);
    assert.throws(() => new State(Empty), TypeError);
  });

  test('values that are neither strings nor numbers', () => {
    assert.throws(() => new State([true] as never), TypeError);
    assert.throws(() => new State([{}] as never), TypeError);
  });
});

describe('State#has and State#indexOf', () => {
  const s = new State(['new', 'open', 'done'] as const);

  test('has answers for declared values only, by identity', () => {
    assert.equal(s.has('open'), true);
    assert.equal(s.has('OPEN'), false);
    assert.equal(s.has(undefined), false);
    assert.equal(s.has(null), false);
    assert.equal(new State([1, 2] as const).has('1'), false);
  });

  test('indexOf is the declaration position, -1 for an unknown value', () => {
    assert.equal(s.indexOf('new'), 0);
    assert.equal(s.indexOf('done'), 2);
    assert.equal(s.indexOf('nope' as never), -1);
  });

  test('State.ANY is not a value of any State', () => {
    assert.equal(typeof State.ANY, 'symbol');
    assert.equal(s.has(State.ANY), false);
  });
});

describe('labels and State#label', () => {
  test('label gives the declared label, or the value as text when it has none', () => {
    const s = new State(Color, { labels: { [Color.Red]: 'Stop', green: 'Go' } });
    assert.equal(s.label(Color.Red), 'Stop');
    assert.equal(s.label(Color.Green), 'Go');
    assert.equal(s.label(Color.Blue), 'blue');
  });

  test('numbers are labelled through their text keys; 0 included', () => {
    const s = new State(Level, { labels: { [Level.Low]: 'Low', 2: 'High' } });
    assert.equal(s.label(Level.Low), 'Low');
    assert.equal(s.label(Level.Mid), '1');
    assert.equal(s.label(Level.High), 'High');
  });

  test('a key matching a string value wins over a number of the same text', () => {
    const s = new State([1, '1'] as const, { labels: { 1: 'the text one' } });
    assert.equal(s.label('1'), 'the text one');
    assert.equal(s.label(1), '1');
  });

  test('a label for an undeclared value, or one that is not a string: TypeError when the State is created', () => {
    assert.throws(() => new State(Color, { labels: { purple: 'Purple' } as never }), {
      name: 'TypeError',
      message: 'new State(): labels has "purple", which is not a value of State(state) (declared: "red", "green", "blue").',
    });
    assert.throws(() => new State(Color, { labels: { red: 1 } as never }), { name: 'TypeError', message: /the label of "red" must be a string, got number/ });
    assert.throws(() => new State(Color, { labels: 'red' as never }), { name: 'TypeError', message: /labels must be an object/ });
  });

  test('label of an undeclared value is a TypeError', () => {
    const s = new State(Color);
    assert.throws(() => s.label('purple' as never), { name: 'TypeError', message: /State\(state\)\.label\("purple"\): "purple" is not a declared value/ });
  });
});

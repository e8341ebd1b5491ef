/**
 * What diagrams and the CLI draw of state labels, dynamic targets and `onError` moves (README,
 * Diagrams and the CLI): labels name the states (DOT node labels, Mermaid aliases), a dynamic
 * target draws an arrow to each of its `targets`, and `onError` an arrow to its error value,
 * labelled "<label> (error)" and dashed in DOT, sorted with the others.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { State, toDot, toMermaid } from 'transitional';
import { Checkout } from './fixtures/flows.ts';
import { parseMermaid } from './mermaid-parser.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

const lines = (...l: string[]) => l.join('\n');

describe('toDot', () => {
  test('node lines carry labels; dynamic targets and onError moves are edges, error ones dashed', () => {
    assert.equal(
      toDot(Checkout),
      lines(
        'digraph {',
        '"cart" [label="Cart"];',
        '"failed" [label="Payment failed"];',
        '"paid" [label="paid"];',
        '"paying" [label="Paying"];',
        '"review" [label="Manual review"];',
        '"cart" -> "paying" [label="Pay"];',
        '"failed" -> "cart" [label="Retry"];',
        '"paying" -> "failed" [label="Confirm (error)", style=dashed];',
        '"paying" -> "paid" [label="Confirm"];',
        '"paying" -> "review" [label="Confirm"];',
        '}',
      ),
    );
  });

  test('a State.ANY transition with onError: an error edge from every other state; labels with quotes are escaped', () => {
    const s = new State(['a', 'b', 'oops'] as const, { default: 'a', labels: { oops: 'Said "oops"' } });
    class Flow {
      @s.transition({ source: State.ANY, target: 'a', onError: 'oops', label: 'Reset' }) reset() {}
      @s.transition({ source: 'a', onError: 'oops', label: 'Check' }) check() {}
    }
    assert.equal(
      toDot(Flow),
      lines(
        'digraph {',
        '"a" [label="a"];',
        '"b" [label="b"];',
        '"oops" [label="Said \\"oops\\""];',
        '"a" -> "oops" [label="Check (error)", style=dashed];',
        '"a" -> "oops" [label="Reset (error)", style=dashed];',
        '"b" -> "a" [label="Reset"];',
        '"b" -> "oops" [label="Reset (error)", style=dashed];',
        '"oops" -> "a" [label="Reset"];',
        '}',
      ),
      'a transition without target still draws its error edge',
    );
  });

  test('numeric values take their labels from string keys', () => {
    const level = new State([0, 1] as const, { default: 0, labels: { 0: 'Off', 1: 'On' } });
    class Lamp {
      @level.transition({ source: 0, target: 1 }) on() {}
    }
    assert.equal(toDot(Lamp), lines('digraph {', '"0" [label="Off"];', '"1" [label="On"];', '"0" -> "1" [label="On"];', '}'));
  });
});

describe('toMermaid', () => {
  test('a labelled state is named through an alias showing its label', () => {
    assert.equal(
      toMermaid(Checkout),
      lines(
        'stateDiagram-v2',
        '    [*] --> cart',
        '    state "Cart" as cart',
        '    state "Paying" as paying',
        '    paid',
        '    state "Payment failed" as failed',
        '    state "Manual review" as review',
        '    cart --> paying: Pay',
        '    paying --> paid: Confirm',
        '    paying --> failed: Confirm (error)',
        '    paying --> review: Confirm',
        '    failed --> cart: Retry',
      ),
    );
  });

  test('Mermaid\'s own parser reads the labels as the states\' names, and every arrow', async () => {
    const parsed = await parseMermaid(toMermaid(Checkout));
    assert.deepEqual([...parsed.nodes.values()].sort(), ['Cart', 'Manual review', 'Paying', 'Payment failed', '[*]', 'paid']);
    assert.deepEqual(
      [...parsed.edges].sort(),
      ['Cart -> Paying: Pay', 'Paying -> Manual review: Confirm', 'Paying -> Payment failed: Confirm (error)', 'Paying -> paid: Confirm', 'Payment failed -> Cart: Retry', '[*] -> Cart'],
    );
  });

  test('a label on a value that needs an alias anyway, with characters Mermaid reads as syntax', async () => {
    const s = new State(['in review', 'end'] as const, { default: 'in review', labels: { 'in review': 'Being reviewed; wait', end: 'Done' } });
    class Flow {
      @s.transition({ source: 'in review', target: 'end' }) finish() {}
    }
    const text = toMermaid(Flow);
    assert.equal(text, lines('stateDiagram-v2', '    [*] --> s0', '    state "Being reviewed#59; wait" as s0', '    state "Done" as s1', '    s0 --> s1: Finish'));
    const parsed = await parseMermaid(text);
    assert.deepEqual([...parsed.nodes.values()].sort(), ['Being reviewed; wait', 'Done', '[*]']);
  });
});

describe('the CLI', () => {
  function cli(...args: string[]) {
    const env = { ...process.env };
    delete env['NODE_TEST_CONTEXT'];
    const r = spawnSync(process.execPath, [fileURLToPath(new URL('dist/bin.js', `file://${root}`)), ...args], { cwd: root, encoding: 'utf8', env, timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  test('transitions: labelled states, every target of a dynamic one, and the onError state', () => {
    const r = cli('transitions', 'test/diagram/fixtures/flows.ts#Checkout');
    assert.equal(r.stderr, '');
    assert.equal(
      r.stdout,
      lines(
        'name     label    sources                  target                                    on error                 conditions  permission',
        'pay      Pay      cart (Cart)              paying (Paying)                           -                        0           no',
        'confirm  Confirm  paying (Paying)          paid | review (Manual review) (computed)  failed (Payment failed)  0           no',
        'retry    Retry    failed (Payment failed)  cart (Cart)                               -                        0           no',
        '',
      ),
    );
  });

  test('diagram: the labels and error edges, as toDot and toMermaid draw them', () => {
    assert.deepEqual(cli('diagram', 'test/diagram/fixtures/flows.ts#Checkout', '--format', 'dot'), { code: 0, stdout: toDot(Checkout) + '\n', stderr: '' });
    assert.deepEqual(cli('diagram', 'test/diagram/fixtures/flows.ts#Checkout'), { code: 0, stdout: toMermaid(Checkout) + '\n', stderr: '' });
  });
});

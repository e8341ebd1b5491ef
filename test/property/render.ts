/**
 * Renders a generated flow and script as TypeScript-like source, so a failing case reads like the
 * regression test it should become.
 */
import { hookId, show, type FlowSpec, type Step, type TransitionSpec } from './model.ts';
import type { Op, Round } from './arbitraries.ts';

function options(d: TransitionSpec): string {
  const parts = [`source: ${d.sources === 'ANY' ? 'State.ANY' : d.bare && d.sources.length === 1 ? show(d.sources[0]) : `[${d.sources.map(show).join(', ')}]`}`];
  if (d.target !== undefined) parts.push(`target: ${show(d.target)}`);
  if (d.onError !== undefined) parts.push(`onError: ${show(d.onError)}`);
  if (d.conditions.length) parts.push(`conditions: [${d.conditions.map((c) => (c === 'bool' ? 'bool' : 'withReason')).join(', ')}]`);
  if (d.label !== undefined) parts.push(`label: ${JSON.stringify(d.label)}`);
  if (d.rewind) parts.push('rewind: true');
  if (d.permission !== undefined) parts.push(`permission: only(${d.permission.map((u) => JSON.stringify(u)).join(', ')})`);
  return `{ ${parts.join(', ')} }`;
}

function step(s: Step, name: string, parent: string, aw: string): string {
  const wrap = (call: string, swallow: boolean) => (swallow ? `try { ${aw}${call}; } catch {}` : `${aw}${call};`);
  if (s.kind === 'call') return wrap(`this.${s.method}(cid)`, s.swallow);
  if (s.kind === 'super') return wrap(`superTransition(${parent}, this).${name}(cid)`, s.swallow);
  return `s${s.state}.${s.atLeast ? 'waitForAtLeast' : 'waitFor'}(this, ${show(s.value)});`;
}

export function renderFlow(spec: FlowSpec): string {
  const lines: string[] = [];
  spec.states.forEach((s, k) => {
    lines.push(`const s${k} = new State([${s.values.map(show).join(', ')}], { ${s.default !== undefined ? `default: ${show(s.default)}, ` : ''}ordered: ${s.ordered} });`);
  });
  spec.classes.forEach((c, level) => {
    lines.push(`// ${c.mode} decorators`);
    lines.push(`class Flow${level}${level ? ` extends Flow${level - 1}` : ''} {`);
    if (level === 0) {
      lines.push(`  constructor(readonly host: unknown[]) {}`);
      spec.states.forEach((s, k) => {
        if (s.accessors) lines.push(`  @s${k}.getter() read${k}() { return this.host[${k}]; }`, `  @s${k}.setter() write${k}(v) { this.host[${k}] = v; }`);
      });
    }
    for (const [name, m] of Object.entries(c.methods)) {
      for (const lane of m.lanes) {
        if (lane.kind === 'inherit') lines.push(`  @s${lane.state}.inherit()`);
        else for (const d of lane.defs) lines.push(`  @s${lane.state}.transition(${options(d)})`);
      }
      const aw = m.body.style === 'sync' ? '' : 'await ';
      const head = m.body.style === 'async' ? 'async ' : '';
      const steps = m.body.steps.map((st) => step(st, name, `Flow${level - 1}`, aw));
      const body = m.body.style === 'promise' ? `return (async () => { await null; ${steps.join(' ')} })();` : steps.join(' ');
      lines.push(`  ${head}${name}(cid) { ${body} }${m.body.style === 'promise' ? ' // a plain function returning a promise' : ''}`);
    }
    c.hooks.forEach((h, i) => {
      const kind = h.kind === 'success' ? 'onSuccess' : h.kind === 'error' ? 'onError' : h.kind;
      const opts = h.order === undefined ? '' : `{ order: ${h.order} }`;
      const call = h.call
        ? ` if (index(e.transition) < index(${JSON.stringify(h.call.method)})) ${h.call.swallow ? 'try { ' : ''}${h.async ? 'await ' : ''}e.flow.${h.call.method}(cid);${h.call.swallow ? ' } catch {}' : ''}`
        : '';
      if (h.external) lines.push(`  // s${h.state}.hook(Flow${level}, ${JSON.stringify(h.kind)}, ${h.async ? 'async ' : ''}(e) => {${call} }${opts ? `, ${opts}` : ''})  [${hookId(level, i)}]`);
      else lines.push(`  @s${h.state}.${kind}(${opts}) ${h.async ? 'async ' : ''}h${level}_${i}(e) {${call} }  [${hookId(level, i)}]`);
    });
    lines.push('}');
  });
  lines.push(`const flow = new Flow${spec.level}([${spec.states.map((s) => show(s.initial)).join(', ')}]);`);
  return lines.join('\n');
}

export function renderOps(ops: readonly Op[]): string {
  return ops
    .map((op, i) => {
      if (op.op === 'call') return `flow.${op.method}('c${i}')${op.faults.length ? `  // faults at c${i}#${op.faults.join(', #')}` : ''}`;
      if (op.op === 'wait') return `s${op.state}.${op.atLeast ? 'waitForAtLeast' : 'waitFor'}(flow, ${show(op.value)})`;
      if (op.op === 'poke') return `flow.host[${op.state}] = ${show(op.raw)}`;
      return 'available(flow)';
    })
    .join('\n');
}

export function renderRounds(rounds: readonly Round[]): string {
  return rounds
    .map((round, r) => {
      const waits = round.waits.map((w) => `s${w.state}.${w.atLeast ? 'waitForAtLeast' : 'waitFor'}(flow, ${show(w.value)});`);
      const calls = round.calls.map((c, i) => `flow.${c.method}('r${r}c${i}')${c.faults.length ? ` /* faults at r${r}c${i}#${c.faults.join(', #')} */` : ''}`);
      return `// round ${r}\n${[...waits, `await Promise.allSettled([${calls.join(', ')}]); // started in the order the scheduler picks`].join('\n')}`;
    })
    .join('\n');
}

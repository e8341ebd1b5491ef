/**
 * The three pages: every flow with its diagram and counts per state; the entities in one state;
 * one entity with its state, its actions and its history. Server-rendered, no script: an action is
 * a form whose buttons post to the entity's own address.
 */

import type { EntityManager } from '@mikro-orm/core';
import { ANY, type TransitionDefinition } from '../core/definition.ts';
import type { StateValue } from '../core/errors.ts';
import { html, page, type Html } from './html.ts';
import { adminDot, diagramHtml } from './diagram.ts';
import { countByState, countInState, historyOf, HISTORY_LIMIT, keyOf, listInState, type Cursor, type HistoryRow } from './queries.ts';
import { declaredValue, type ShownFlow, type Site } from './options.ts';
import type { Outcome } from './tokens.ts';

/** The view's addresses, under its base path. */
export class Paths {
  constructor(readonly base: string) {}
  index(): string {
    return `${this.base}/`;
  }
  state(shown: ShownFlow, value: StateValue, query = ''): string {
    return `${this.base}/flows/${encodeURIComponent(shown.slug)}/states/${encodeURIComponent(String(value))}${query}`;
  }
  entity(shown: ShownFlow, key: string, query = ''): string {
    return `${this.base}/flows/${encodeURIComponent(shown.slug)}/entities/${encodeURIComponent(key)}${query}`;
  }
}

/** A value of the database as text for people: `—` for nothing, dates in ISO form, objects as JSON; long ones cut. */
function showValue(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) return '—';
  if (value instanceof Date) text = Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  else if (typeof value === 'object') {
    try {
      text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) ?? String(value);
    } catch {
      text = String(value);
    }
  } else text = String(value);
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}

/** `2026-11-03 14:02:11 UTC` in a `<time>` element. */
function showTime(value: Date | string | null): Html {
  if (value === null) return html`—`;
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return html`${String(value)}`;
  const iso = date.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC</time>`;
}

/** A state as people read it: its label, and its value when that differs. */
function stateText(shown: ShownFlow, value: StateValue): Html {
  const label = shown.state.label(value);
  return label === String(value) ? html`${label}` : html`${label} <code>${String(value)}</code>`;
}

/** A state stored as text (a history row): its label when it is declared. */
function storedStateText(shown: ShownFlow, text: string): Html {
  const value = declaredValue(shown.state, text);
  return value === undefined ? html`<code>${text}</code>` : stateText(shown, value);
}

function entityName(shown: ShownFlow, entity: object): string {
  const key = keyOf(entity);
  let caption: string | undefined;
  try {
    caption = shown.caption(entity);
  } catch {
    caption = undefined;
  }
  return caption === undefined || caption === null || caption === '' ? `${shown.meta.className} ${key}` : `${shown.meta.className} ${key}: ${String(caption)}`;
}

function notice(outcome: Outcome | undefined): Html {
  if (outcome === undefined) return html``;
  const cls = outcome.kind === 'ok' ? 'ok' : outcome.kind === 'refused' ? 'warn' : 'bad';
  return html`<div class="notice ${cls}" role="${outcome.kind === 'ok' ? 'status' : 'alert'}">${outcome.message}</div>`;
}

// ---------------------------------------------------------------------------------------------
// Index

export async function indexPage(site: Site<unknown>, paths: Paths, em: EntityManager): Promise<string> {
  const sections: Html[] = [];
  for (const shown of site.flows) {
    const counts = await countByState(em, shown);
    const total = counts.reduce((sum, c) => sum + c.count, 0);
    const diagram = await diagramHtml(adminDot(shown, (v) => paths.state(shown, v)), `States of ${shown.title}`);
    const rows = counts.map((c) =>
      c.declared
        ? html`<tr><td><a href="${paths.state(shown, c.value)}">${shown.state.label(c.value)}</a>${shown.state.label(c.value) === String(c.value) ? '' : html` <code>${String(c.value)}</code>`}</td><td class="num">${c.count}</td></tr>`
        : html`<tr><td><code>${String(c.value)}</code> <span class="muted">(not a declared state)</span></td><td class="num">${c.count}</td></tr>`,
    );
    sections.push(html`<section class="flow" aria-labelledby="flow-${shown.index}">
<h2 id="flow-${shown.index}">${shown.title}</h2>
<p class="muted">${shown.meta.className} entities, state in <code>${shown.field}</code> (${shown.state.name}): ${total} in all.</p>
<div class="columns">
${diagram}
<div class="table"><table><thead><tr><th scope="col">State</th><th scope="col" class="num">Entities</th></tr></thead><tbody>${rows}</tbody></table></div>
</div>
</section>`);
  }
  return page('Flows', paths.index(), [], html`<h1>Flows</h1>${sections}`);
}

// ---------------------------------------------------------------------------------------------
// Entities in one state

export async function statePage(site: Site<unknown>, paths: Paths, em: EntityManager, shown: ShownFlow, value: StateValue, cursor: Cursor | undefined): Promise<string> {
  const [{ entities, more }, count] = await Promise.all([listInState(em, shown, value, cursor, site.pageSize), countInState(em, shown, value)]);
  const label = shown.state.label(value);
  const rows = entities.map((entity) => {
    const key = keyOf(entity);
    let caption: unknown;
    try {
      caption = shown.caption(entity);
    } catch {
      caption = undefined;
    }
    return html`<tr><td><a href="${paths.entity(shown, key)}">${shown.meta.className} ${key}</a></td><td>${caption === undefined || caption === null ? '' : String(caption)}</td></tr>`;
  });
  const last = entities.at(-1);
  const keyset = shown.keys.length === 1;
  const pageNumber = cursor !== undefined && 'page' in cursor ? cursor.page : 0;
  const older = !more || last === undefined ? undefined : keyset ? `?before=${encodeURIComponent(keyOf(last))}` : `?page=${pageNumber + 1}`;
  const pager = html`<nav class="pager" aria-label="Pages">${cursor === undefined ? '' : html`<a href="${paths.state(shown, value)}">← Newest</a>`}${older === undefined ? '' : html`<a href="${paths.state(shown, value, older)}">Older →</a>`}</nav>`;
  const body = html`<h1>${shown.title}: ${label}</h1>
<p class="muted">${count} ${count === 1 ? 'entity' : 'entities'} in ${stateText(shown, value)}, newest first.</p>
${entities.length === 0 ? html`<p>None${cursor === undefined ? '' : ' on this page'}.</p>` : html`<div class="table"><table><thead><tr><th scope="col">${shown.meta.className}</th><th scope="col">Caption</th></tr></thead><tbody>${rows}</tbody></table></div>`}
${pager}`;
  return page(`${shown.title}: ${label}`, paths.index(), [{ href: paths.index(), text: 'Flows' }, { href: paths.index() + `#flow-${shown.index}`, text: shown.title }, { text: label }], body);
}

// ---------------------------------------------------------------------------------------------
// One entity

/** Why a condition of `def` refuses now: its own `reason`, or which condition. */
export function conditionReason(flow: object, def: TransitionDefinition): string {
  for (let i = 0; i < def.conditions.length; i++) {
    const condition = def.conditions[i]!;
    const which = `condition ${i + 1}${condition.name ? ` (${condition.name})` : ''}`;
    let result: unknown;
    try {
      result = condition(flow);
    } catch (error) {
      return `${which} failed with an error: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (result === true) continue;
    if (typeof result === 'object' && result !== null && (result as { ok?: unknown }).ok === true) continue;
    const reason = typeof result === 'object' && result !== null ? (result as { reason?: unknown }).reason : undefined;
    return typeof reason === 'string' && reason !== '' ? reason : `${which} does not hold`;
  }
  return 'not available now';
}

/** What the entity page shows about actions: the buttons, and the transitions refused by a condition (with why). */
export function actionsFor(shown: ShownFlow, flow: object, user: unknown): { available: TransitionDefinition[]; refused: { def: TransitionDefinition; reason: string }[] } {
  const state = shown.state;
  const current = state.get(flow);
  const available = state.available(flow, { user }) as TransitionDefinition[];
  const names = new Set(available.map((t) => t.name));
  const refused: { def: TransitionDefinition; reason: string }[] = [];
  for (const def of state.transitions(flow.constructor as never) as TransitionDefinition[]) {
    if (names.has(def.name)) continue;
    if (def.source !== ANY && !(def.source as readonly StateValue[]).includes(current)) continue;
    // A transition the user may not run is not shown at all.
    if (!state.hasPermission(flow, def.name as never, user)) continue;
    names.add(def.name);
    refused.push({ def, reason: conditionReason(flow, def) });
  }
  return { available, refused };
}

export interface EntityView {
  readonly shown: ShownFlow;
  readonly entity: object;
  readonly flow: object;
  readonly user: unknown;
  readonly csrf: string;
  readonly outcome: Outcome | undefined;
}

export async function entityPage(paths: Paths, em: EntityManager, view: EntityView): Promise<string> {
  const { shown, entity, flow, user } = view;
  const key = keyOf(entity);
  const name = entityName(shown, entity);
  const history = await historyOf(em, shown, entity);
  let current: StateValue | undefined;
  let broken: string | undefined;
  try {
    current = shown.state.get(flow);
  } catch (error) {
    broken = error instanceof Error ? error.message : String(error);
  }

  let actions: Html;
  if (current === undefined) {
    actions = html`<div class="notice bad" role="alert">Its state cannot be read: ${broken ?? 'unknown'}</div>`;
  } else {
    const { available, refused } = actionsFor(shown, flow, user);
    const seen = history === undefined || history.rows.length === 0 ? '' : String(history.rows.at(-1)!.id);
    const buttons = available.map((t) => html`<button type="submit" name="transition" value="${t.name}">${t.label}</button>`);
    actions = html`${available.length === 0
      ? html`<p class="muted">No transition is available to you from ${shown.state.label(current)}.</p>`
      : html`<form class="actions" method="post" action="${paths.entity(shown, key)}">
<input type="hidden" name="_csrf" value="${view.csrf}">
<input type="hidden" name="expected" value="${String(current)}">
<input type="hidden" name="seen" value="${seen}">
${buttons}
<details><summary>Arguments</summary><label>Passed to the transition you click, as a JSON array (empty: none)<textarea name="args" placeholder='["urgent"]' spellcheck="false"></textarea></label></details>
</form>`}
${refused.length === 0 ? '' : html`<p>Not available now:</p><ul class="refused">${refused.map((r) => html`<li><strong>${r.def.label}</strong>: ${r.reason}</li>`)}</ul>`}`;
  }

  const diagram = current === undefined ? html`` : await diagramHtml(adminDot(shown, (v) => paths.state(shown, v), current), `${shown.title}, ${name} in ${shown.state.label(current)}`);
  const properties = shown.columns.map((p) => html`<tr><th scope="row">${p.name}</th><td>${showValue((entity as Record<string, unknown>)[p.name])}</td></tr>`);
  const labels = new Map<string, string>();
  for (const t of shown.state.transitions(flow.constructor as never) as TransitionDefinition[]) if (!labels.has(t.name)) labels.set(t.name, t.label);
  const historyRows = (history?.rows ?? []).map(
    (row: HistoryRow) => html`<tr><td>${labels.get(row.transition) ?? row.transition}</td><td>${storedStateText(shown, row.source)}</td><td>${storedStateText(shown, row.target)}</td><td>${row.actor ?? '—'}</td><td>${showTime(row.createdAt)}</td></tr>`,
  );
  const historySection =
    history === undefined
      ? html`<p class="muted">${shown.title} keeps no history (persistTransitions with log: false).</p>`
      : history.rows.length === 0
        ? html`<p class="muted">No transition yet.</p>`
        : html`${history.total > history.rows.length ? html`<p class="muted">The latest ${HISTORY_LIMIT} of ${history.total} changes.</p>` : ''}<div class="table"><table><thead><tr><th scope="col">Transition</th><th scope="col">From</th><th scope="col">To</th><th scope="col">By</th><th scope="col">When</th></tr></thead><tbody>${historyRows}</tbody></table></div>`;

  const stateLine = current === undefined ? html`` : html`<p>State: <span class="state">${shown.state.label(current)}</span>${shown.state.label(current) === String(current) ? '' : html` <code>${String(current)}</code>`}</p>`;
  const body = html`<h1>${name}</h1>
${notice(view.outcome)}
${stateLine}
<h2>Actions</h2>
${actions}
<div class="columns">
<div>
<h2>History</h2>
${historySection}
</div>
<div>
<h2>Properties</h2>
<div class="table"><table><tbody>${properties}</tbody></table></div>
</div>
</div>
<h2>Diagram</h2>
${diagram}`;
  const crumbs = [
    { href: paths.index(), text: 'Flows' },
    { href: paths.index() + `#flow-${shown.index}`, text: shown.title },
    ...(current === undefined ? [] : [{ href: paths.state(shown, current), text: shown.state.label(current) }]),
    { text: `${shown.meta.className} ${key}` },
  ];
  return page(name, paths.index(), crumbs, body);
}

/** A short page for an answer that is not a page of the view (401, 403, 404...). */
export function messagePage(paths: Paths, title: string, message: string, back?: string): string {
  return page(title, paths.index(), [], html`<h1>${title}</h1><p>${message}</p>${back === undefined ? '' : html`<p><a href="${back}">Back</a></p>`}`);
}

/**
 * A button's POST: check who asks and the CSRF token, load the entity in a fresh fork, check the
 * permission and that nothing changed since the page was loaded, run the transition inside
 * `actingAs(user, ...)`, and say what happened on the page the browser is redirected to.
 *
 * Request-level refusals answer at once, and nothing changes: 403 for a missing or foreign CSRF
 * token or a permission that refuses the user, 404 for an unknown entity, 400 for a transition the
 * flow does not have. Everything else (done, refused by a condition, a conflict, invalid input, a
 * failure) is a 303 to the entity's page, which shows the outcome once.
 */

import type { EntityManager } from '@mikro-orm/core';
import { actingAs } from '../runtime/acting.ts';
import { InvalidTransitionInput, TransitionNotAllowed, type StateValue } from '../core/errors.ts';
import type { TransitionDefinition } from '../core/definition.ts';
import { ConcurrentTransition, TransitionNotPersisted } from '../mikro-orm/errors.ts';
import { declaredValue, type ShownFlow, type Site } from './options.ts';
import { keyOf, lastHistoryId, loadEntity } from './queries.ts';
import { validCsrfToken, type Outcome } from './tokens.ts';

/** What the handler answers: a status with a message page, or a redirect with an outcome. */
export type ActionResult =
  | { readonly status: 400 | 403 | 404 | 413; readonly title: string; readonly message: string }
  | { readonly status: 303; readonly outcome: Outcome };

/** The largest form body accepted, in bytes. */
export const MAX_FORM_BYTES = 64 * 1024;

/** The posted form, or `undefined` when there is none that can be read; `'too large'` past `MAX_FORM_BYTES`. */
export async function readForm(request: Request): Promise<URLSearchParams | 'too large' | undefined> {
  const length = Number(request.headers.get('content-length') ?? '0');
  if (length > MAX_FORM_BYTES) return 'too large';
  const type = (request.headers.get('content-type') ?? '').toLowerCase();
  try {
    if (type.startsWith('application/x-www-form-urlencoded')) {
      const text = await request.text();
      return text.length > MAX_FORM_BYTES ? 'too large' : new URLSearchParams(text);
    }
    if (type.startsWith('multipart/form-data')) {
      const out = new URLSearchParams();
      for (const [name, value] of await request.formData()) if (typeof value === 'string') out.append(name, value);
      return out;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function label(shown: ShownFlow, value: unknown): string {
  const declared = declaredValue(shown.state, String(value));
  return declared === undefined ? String(value) : shown.state.label(declared);
}

function issuesText(error: InvalidTransitionInput): string {
  const parts = error.issues.map((issue) => {
    const path = (issue.path ?? []).map((p) => (typeof p === 'object' && p !== null ? String((p as { key: unknown }).key) : String(p))).join('.');
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  });
  return parts.length === 0 ? error.message : parts.join('; ');
}

/** The transition `name` of the flow's class for the shown State, if it has one (never any other method). */
function transitionNamed(shown: ShownFlow, flow: object, name: string | null): TransitionDefinition | undefined {
  if (name === null) return undefined;
  return (shown.state.transitions(flow.constructor as never) as TransitionDefinition[]).find((t) => t.name === name);
}

/** Runs the posted transition for `user` and says what happened. */
export async function runAction(site: Site<unknown>, shown: ShownFlow, keyText: string, form: URLSearchParams, user: unknown, userKey: string): Promise<ActionResult> {
  if (!validCsrfToken(site.secret, userKey, form.get('_csrf'))) {
    return { status: 403, title: 'Refused', message: 'This form was not issued to you, or it has expired (forms are valid for a day): reload the page and try again. Nothing changed.' };
  }
  const em: EntityManager = site.orm.em.fork();
  const entity = await loadEntity(em, shown, keyText);
  if (entity === undefined) return { status: 404, title: 'Not found', message: `There is no ${shown.meta.className} ${keyText}.` };
  const flow = shown.store.wrap(entity, em);
  const def = transitionNamed(shown, flow, form.get('transition'));
  if (def === undefined) return { status: 400, title: 'Unknown transition', message: `${shown.title} has no transition named ${JSON.stringify(form.get('transition') ?? '')}. Nothing changed.` };
  if (!shown.state.hasPermission(flow, def.name as never, user)) {
    return { status: 403, title: 'Refused', message: `You may not ${JSON.stringify(def.label)} (${def.name}): its permission refuses you. Nothing changed.` };
  }

  let args: unknown[] = [];
  const argsText = (form.get('args') ?? '').trim();
  if (argsText !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(argsText);
    } catch (error) {
      return { status: 303, outcome: { kind: 'refused', message: `The arguments are not JSON (${error instanceof Error ? error.message : String(error)}): write a JSON array, like ["urgent"]. Nothing changed.` } };
    }
    if (!Array.isArray(parsed)) return { status: 303, outcome: { kind: 'refused', message: 'The arguments must be a JSON array, like ["urgent"] for one argument. Nothing changed.' } };
    args = parsed;
  }

  // The page showed a state (and a last history row): if either moved since, the user decided on
  // something that is no longer true. Say so rather than act. The history is read first and the
  // state after it (re-read), so a transition committed in between shows as a new state, never as
  // a new history row on an old state.
  const seen = form.get('seen');
  const last = seen === null ? undefined : await lastHistoryId(em, shown, entity);
  if (seen !== null) await em.refresh(entity as never);
  let before: StateValue;
  try {
    before = shown.state.get(flow);
  } catch (error) {
    return { status: 303, outcome: { kind: 'failed', message: `Its state cannot be read: ${error instanceof Error ? error.message : String(error)}` } };
  }
  const expected = form.get('expected');
  if (expected !== String(before) || (last !== undefined && last !== seen)) {
    const what = expected === String(before) ? `it went through other transitions and is ${label(shown, before)} again` : `it is now ${label(shown, before)}`;
    return { status: 303, outcome: { kind: 'refused', message: `${shown.meta.className} ${keyOf(entity)} changed since you loaded this page: ${what}. Nothing was done: look again, then decide.` } };
  }

  try {
    await actingAs(user, () => (flow as Record<string, (...a: unknown[]) => unknown>)[def.name]!(...args));
  } catch (error) {
    if (error instanceof TransitionNotAllowed) {
      if (error.reason === 'permission') return { status: 403, title: 'Refused', message: `You may not ${JSON.stringify(def.label)} (${def.name}): its permission refuses you. Nothing changed.` };
      const why = error.reason === 'condition' ? (error.detail ?? 'a condition does not hold') : `it does not start from ${label(shown, error.state)}`;
      return { status: 303, outcome: { kind: 'refused', message: `“${def.label}” was refused: ${why}. Nothing changed.` } };
    }
    if (error instanceof ConcurrentTransition) {
      return { status: 303, outcome: { kind: 'refused', message: `Someone else changed ${error.entity} ${keyOf(entity)} first: it is now ${label(shown, error.actual)}. Nothing was done: look again, then decide.` } };
    }
    if (error instanceof InvalidTransitionInput) {
      return { status: 303, outcome: { kind: 'refused', message: `“${def.label}” needs other input: ${issuesText(error)}. Nothing changed.` } };
    }
    if (error instanceof TransitionNotPersisted) {
      return { status: 303, outcome: { kind: 'failed', message: `“${def.label}” could not be saved: ${error.message}` } };
    }
    // The body (or a hook) failed: nothing of it was kept, unless onError moved the state.
    const now = await nowIn(site, shown, keyText);
    const moved = now !== undefined && now !== String(before) ? ` It moved to ${label(shown, now)} (its error state).` : ' Nothing changed.';
    return { status: 303, outcome: { kind: 'failed', message: `“${def.label}” failed: ${error instanceof Error ? error.message : String(error)}.${moved}` } };
  }
  const after = shown.state.get(flow);
  return { status: 303, outcome: { kind: 'ok', message: `“${def.label}” done: ${label(shown, before)} → ${label(shown, after)}.` } };
}

/** The entity's state as the database has it now (a fresh fork), as text. */
async function nowIn(site: Site<unknown>, shown: ShownFlow, keyText: string): Promise<string | undefined> {
  try {
    const entity = await loadEntity(site.orm.em.fork(), shown, keyText);
    if (entity === undefined) return undefined;
    const stored = (entity as Record<string, unknown>)[shown.field];
    return stored === null || stored === undefined ? (shown.state.default === undefined ? undefined : String(shown.state.default)) : String(stored);
  } catch {
    return undefined;
  }
}

/**
 * Signed values: CSRF tokens bound to a user, and the outcome message carried through the
 * redirect after an action (POST-redirect-GET) without server-side sessions.
 *
 * A CSRF token is `<issued at, base 36 ms>.<HMAC-SHA256(secret, "csrf", user key, issued at)>`:
 * a page issues one for the user it is rendered for, and a state-changing request must send back a
 * token whose MAC matches the user that request acts for and that is less than a day old. Nobody
 * without the secret can make one, and one user's token is worthless for another.
 */

import { createHmac, timingSafeEqual } from 'node:crypto';

/** How long a page's CSRF token stays valid. */
const TOKEN_LIFETIME = 24 * 60 * 60_000;
/** How long an outcome message is shown after its action (a reload later shows the bare page). */
const OUTCOME_LIFETIME = 10 * 60_000;

function mac(secret: Uint8Array, parts: readonly string[]): Buffer {
  const h = createHmac('sha256', secret);
  // Length-prefixed, so that no two different lists of parts sign the same bytes.
  for (const p of parts) h.update(`${Buffer.byteLength(p)}:${p};`);
  return h.digest();
}

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A CSRF token for the user whose key is `userKey`. */
export function csrfToken(secret: Uint8Array, userKey: string, now = Date.now()): string {
  const issued = now.toString(36);
  return `${issued}.${mac(secret, ['csrf', userKey, issued]).toString('base64url')}`;
}

/** Whether `token` was issued by `csrfToken` for `userKey`, less than a day ago. */
export function validCsrfToken(secret: Uint8Array, userKey: string, token: unknown, now = Date.now()): boolean {
  if (typeof token !== 'string' || token.length > 200) return false;
  const dot = token.indexOf('.');
  if (dot <= 0) return false;
  const issued = token.slice(0, dot);
  const at = Number.parseInt(issued, 36);
  if (!/^[0-9a-z]+$/.test(issued) || !Number.isSafeInteger(at) || now - at > TOKEN_LIFETIME || at - now > 60_000) return false;
  return same(Buffer.from(token.slice(dot + 1), 'base64url'), mac(secret, ['csrf', userKey, issued]));
}

/** What happened to an action, shown once on the page the browser is redirected to. */
export interface Outcome {
  /** `ok`: done; `refused`: not allowed (a condition, the source, a conflict); `failed`: an error. */
  readonly kind: 'ok' | 'refused' | 'failed';
  readonly message: string;
}

/** `outcome` signed for one user and one page (`scope`), for a query parameter. */
export function signOutcome(secret: Uint8Array, userKey: string, scope: string, outcome: Outcome, now = Date.now()): string {
  const payload = Buffer.from(JSON.stringify({ k: outcome.kind, m: outcome.message, t: now })).toString('base64url');
  return `${payload}.${mac(secret, ['outcome', userKey, scope, payload]).toString('base64url')}`;
}

/** The outcome in `signed` if it was signed for this user and page less than ten minutes ago. */
export function readOutcome(secret: Uint8Array, userKey: string, scope: string, signed: string | null, now = Date.now()): Outcome | undefined {
  if (signed === null || signed.length > 8000) return undefined;
  const dot = signed.indexOf('.');
  if (dot <= 0) return undefined;
  const payload = signed.slice(0, dot);
  if (!same(Buffer.from(signed.slice(dot + 1), 'base64url'), mac(secret, ['outcome', userKey, scope, payload]))) return undefined;
  try {
    const data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { k?: unknown; m?: unknown; t?: unknown };
    if ((data.k !== 'ok' && data.k !== 'refused' && data.k !== 'failed') || typeof data.m !== 'string' || typeof data.t !== 'number') return undefined;
    if (now - data.t > OUTCOME_LIFETIME) return undefined;
    return { kind: data.k, message: data.m };
  } catch {
    return undefined;
  }
}

/**
 * HTML that cannot be injected into: every value interpolated into the `html` template is escaped
 * unless it is itself `Html` (made by this template, or by `trusted` for our own checked SVG).
 * Pages are built from these templates only; nothing else writes markup.
 */

import { createHash } from 'node:crypto';

/** A piece of markup that is safe to send as it is. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text as HTML text or a quoted attribute value: `& < > " '` become entities. */
export function escape(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (ch) => ENTITIES[ch]!);
}

/** Markup we built ourselves and checked (the diagram's SVG); never a value from outside. */
export function trusted(markup: string): Html {
  return new Html(markup);
}

type Part = Html | string | number | bigint | boolean | null | undefined | readonly Part[];

function part(value: Part): string {
  if (value instanceof Html) return value.text;
  if (value === null || value === undefined || value === false || value === true) return '';
  if (Array.isArray(value)) return value.map(part).join('');
  return escape(value);
}

/**
 * The template every page is written with: interpolated values are escaped (arrays are joined,
 * `null`, `undefined` and booleans print nothing), `Html` values are inserted as they are.
 *
 * @example
 * html`<td>${ticket.title}</td>`;   // '<td>&lt;script&gt;...</td>' for a hostile title
 */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += part(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** The one stylesheet, inline in every page (allowed by its hash in the Content-Security-Policy). */
export const STYLESHEET = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #fff; --soft: #f6f8fa; --accent: #0969da; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header.top { background: var(--soft); border-bottom: 1px solid var(--line); padding: .6rem 1rem; }
header.top a { color: var(--fg); font-weight: 600; text-decoration: none; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
nav.crumbs { font-size: .9rem; color: var(--muted); margin-bottom: .5rem; overflow-wrap: anywhere; }
nav.crumbs a { color: var(--accent); }
h1 { font-size: 1.5rem; margin: .2rem 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 1.6rem 0 .6rem; }
a { color: var(--accent); }
section.flow { border-top: 1px solid var(--line); padding-top: .5rem; }
.columns { display: grid; gap: 1rem; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); align-items: start; }
@media (max-width: 48rem) { .columns { grid-template-columns: minmax(0, 1fr); } }
figure.diagram { margin: 0; overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; padding: .5rem; background: #fff; }
figure.diagram svg { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figure.diagram figcaption { font-size: .85rem; color: var(--muted); }
.table { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td { overflow-wrap: break-word; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font-size: .85em; background: var(--soft); padding: .05rem .3rem; border-radius: 4px; overflow-wrap: anywhere; }
.state { display: inline-block; padding: .15rem .6rem; border-radius: 999px; background: var(--accent); color: #fff; font-weight: 600; }
.muted { color: var(--muted); }
.notice { border-radius: 6px; padding: .7rem 1rem; margin: 0 0 1rem; border: 1px solid; overflow-wrap: anywhere; }
.notice.ok { border-color: var(--ok); background: #dafbe1; }
.notice.bad { border-color: var(--bad); background: #ffebe9; }
.notice.warn { border-color: var(--warn); background: #fff8c5; }
form.actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: flex-start; margin: 0 0 .5rem; }
form.actions button { font: inherit; font-weight: 600; padding: .55rem 1rem; min-height: 2.75rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
form.actions button:focus-visible { outline: 3px solid #54aeff; outline-offset: 2px; }
form.actions details { flex-basis: 100%; font-size: .9rem; }
form.actions textarea { width: 100%; min-height: 3rem; font: .9rem ui-monospace, SFMono-Regular, Menlo, monospace; }
ul.refused { margin: .3rem 0 1rem; padding-left: 1.2rem; color: var(--muted); }
.pager { display: flex; gap: 1rem; margin: 1rem 0; }
`;

/** `'sha256-…'`: the Content-Security-Policy source that allows exactly our stylesheet. */
export const STYLESHEET_HASH = `'sha256-${createHash('sha256').update(STYLESHEET).digest('base64')}'`;

/** A whole page: our stylesheet, no script. */
export function page(title: string, home: string, crumbs: readonly { href?: string; text: string }[], body: Html): string {
  const trail = crumbs.map((c, i) => html`${i === 0 ? '' : ' › '}${c.href === undefined ? c.text : html`<a href="${c.href}">${c.text}</a>`}`);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style>${trusted(STYLESHEET)}</style>
</head>
<body>
<header class="top"><a href="${home}">transitional admin</a></header>
<main>
${crumbs.length === 0 ? '' : html`<nav class="crumbs" aria-label="Breadcrumb">${trail}</nav>`}
${body}
</main>
</body>
</html>
`.text;
}

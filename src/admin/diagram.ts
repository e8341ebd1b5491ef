/**
 * Diagrams as SVG, made on the server from our own DOT (`toDot`, labels and error edges included)
 * by Graphviz compiled to WebAssembly (`@viz-js/viz`, an optional peer dependency): no network, no
 * client script. Each state links to its list of entities; an entity's page highlights its state.
 *
 * Graphviz escapes every text it writes into SVG (`<` as `&lt;`, quotes, `-` in comments); we keep
 * only the `<svg>` element, drop comments, and refuse (showing the DOT text instead) any output
 * that holds an element or attribute that could run code, so a hostile label can only ever be text.
 */

import { toDot } from '../read/diagram.ts';
import type { StateValue } from '../core/errors.ts';
import { escape, html, trusted, type Html } from './html.ts';
import type { ShownFlow } from './options.ts';

interface Viz {
  renderString(dot: string, options: { format: 'svg' }): string;
}

let vizInstance: Promise<Viz | Error> | undefined;

/** Graphviz, loaded once per process (about 20 ms), or the reason it cannot be. */
function viz(): Promise<Viz | Error> {
  vizInstance ??= import('@viz-js/viz').then(
    (mod) => mod.instance() as Promise<Viz>,
    (error: unknown) => new Error(`@viz-js/viz is not installed (npm install @viz-js/viz): ${error instanceof Error ? error.message : String(error)}`),
  );
  return vizInstance;
}

/** A DOT double-quoted string. */
function dotString(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&').replace(/\r\n|\r|\n/g, '\\n')}"`;
}

const FONT = 'Helvetica,Arial,sans-serif';

/**
 * The flow's DOT with our look: left to right, rounded boxes, every state linking to `href(value)`,
 * `current` filled.
 */
export function adminDot(shown: ShownFlow, href: (value: StateValue) => string, current?: StateValue): string {
  const lines = toDot(shown.flowClass, shown.state).split('\n');
  const close = lines.pop();
  const head = lines.shift();
  const style = [
    `graph [rankdir=LR, bgcolor="transparent", pad="0.2", nodesep="0.35", ranksep="0.5", fontname="${FONT}"];`,
    `node [shape=box, style="rounded,filled", fillcolor="#f6f8fa", color="#59636e", fontcolor="#1f2328", fontname="${FONT}", fontsize=12];`,
    `edge [color="#59636e", fontcolor="#59636e", fontname="${FONT}", fontsize=10];`,
  ];
  const links = shown.state.values.map((value: StateValue) => {
    const label = shown.state.label(value);
    const extra = value === current ? ', fillcolor="#0969da", fontcolor="#ffffff", color="#0969da", penwidth=2' : '';
    return `${dotString(String(value))} [URL=${dotString(href(value))}, tooltip=${dotString(label)}${extra}];`;
  });
  return [head, ...style, ...lines, ...links, close].join('\n');
}

/** Elements and attributes that could run code or load something: never in a diagram we inline. */
const UNSAFE = /<\s*\/?\s*(?:script|foreignObject|iframe|object|embed|image|use|style|animate|set|handler|listener)\b|\son[a-z]+\s*=\s*["']|[\s:]href\s*=\s*["'](?!\/[^/])/i;

const rendered = new Map<string, Promise<string | Error>>();

async function render(dot: string): Promise<string | Error> {
  const graphviz = await viz();
  if (graphviz instanceof Error) return graphviz;
  let svg: string;
  try {
    svg = graphviz.renderString(dot, { format: 'svg' });
  } catch (error) {
    return new Error(`Graphviz could not draw it: ${error instanceof Error ? error.message : String(error)}`);
  }
  const start = svg.indexOf('<svg');
  if (start === -1) return new Error('Graphviz returned no SVG.');
  // Comments and titles repeat the state values (escaped) and Graphviz's ids repeat across the
  // diagrams of one page: neither is needed.
  svg = svg
    .slice(start)
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<title>[^<]*<\/title>/g, '')
    .replace(/ id="[^"]*"/g, '')
    .replace(/\n\s*\n/g, '\n')
    .trim();
  if (UNSAFE.test(svg)) return new Error('the SVG Graphviz made holds markup that is not allowed in the page.');
  return svg;
}

/** The diagram as inline SVG (cached per DOT text: a flow has few variants), or its DOT text with the reason when it cannot be drawn. */
export async function diagramHtml(dot: string, caption: string): Promise<Html> {
  let pending = rendered.get(dot);
  if (pending === undefined) {
    pending = render(dot);
    if (rendered.size > 500) rendered.clear();
    rendered.set(dot, pending);
  }
  const svg = await pending;
  if (svg instanceof Error) {
    return html`<figure class="diagram"><figcaption>${caption}: not drawn (${svg.message}). Its DOT source:</figcaption><pre>${dot}</pre></figure>`;
  }
  const labelled = svg.replace(/^<svg\b/, `<svg role="img" aria-label="${escape(caption)}"`);
  return html`<figure class="diagram">${trusted(labelled)}<figcaption>${caption}</figcaption></figure>`;
}

/**
 * Mermaid's own parser, under Node: `mermaid.parse()` and `mermaidAPI.getDiagramFromText()` run the
 * real `stateDiagram-v2` grammar (Jison) and database without a browser, except that Mermaid calls
 * DOMPurify, which has no `window` here and so lacks `addHook`/`sanitize`: they are stubbed (text
 * passes through unchanged) before Mermaid is imported. Parsing is otherwise untouched.
 */
import DOMPurify from 'dompurify';

const purify = DOMPurify as unknown as Record<string, unknown>;
purify['addHook'] ??= () => {};
purify['removeHook'] ??= () => {};
purify['removeHooks'] ??= () => {};
purify['removeAllHooks'] ??= () => {};
purify['sanitize'] ??= (text: unknown) => text;

const { default: mermaid } = await import('mermaid');

export interface ParsedStateDiagram {
  /** Mermaid's diagram type: `stateDiagram` for `stateDiagram-v2`. */
  readonly type: string;
  /** Node id → label as a reader sees it (entity codes decoded); `[*]` is Mermaid's `root_start`. */
  readonly nodes: Map<string, string>;
  /** Node id → Mermaid's shape for it (`stateStart` for `[*]`, `rect` for a plain state, `fork`…). */
  readonly shapes: Map<string, string>;
  /** Arrows as labels: `source label -> target label: edge label`, with `[*]` for the start. */
  readonly edges: string[];
}

const NAMED: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'", nbsp: '\u00a0' };

/** Undoes Mermaid's entity encoding (`#59;`, `#quot;`), as its renderer does. */
function decode(text: string): string {
  return text
    .replace(/\ufb02\u00b0\u00b0(\d+)\u00b6\u00df/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/\ufb02\u00b0(\w+)\u00b6\u00df/g, (all, name: string) => NAMED[name] ?? all);
}

/** Parses `text`; rejects with Mermaid's parse error when it is not a valid diagram. */
export async function parseMermaid(text: string): Promise<ParsedStateDiagram> {
  const result = await mermaid.parse(text);
  const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
  const data = (diagram.db as unknown as { getData(): { nodes: { id: string; label?: string; shape?: string }[]; edges: { start: string; end: string; label?: string }[] } }).getData();
  const nodes = new Map(data.nodes.map((n) => [n.id, n.id === 'root_start' ? '[*]' : decode(String(n.label ?? n.id))]));
  const shapes = new Map(data.nodes.map((n) => [n.id, String(n.shape)]));
  const edges = data.edges.map((e) => `${nodes.get(e.start)} -> ${nodes.get(e.end)}${e.label ? `: ${decode(e.label)}` : ''}`);
  return { type: result ? result.diagramType : 'none', nodes, shapes, edges };
}

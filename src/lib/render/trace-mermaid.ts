/**
 * trace -o mermaid: the path as a Mermaid flowchart (GitHub, GitLab and most wikis draw it), one
 * subgraph per Kubernetes node, the failing hop in the `fail` class.
 */
import type {TraceResult} from '../trace/types.js'
import {nodesInOrder, traceGraph, vertexText, type Vertex, type VertexKind} from './path-graph.js'

const SHAPE: Record<VertexKind, [string, string]> = {
  pod: ['(["', '"])'],
  veth: ['["', '"]'],
  bridge: ['[["', '"]]'],
  nic: ['["', '"]'],
  tunnel: ['{{"', '"}}'],
  underlay: ['(("', '"))'],
  nat: ['[/"', '"/]'],
}

/** Mermaid's quoted text: a quote is an entity, a newline a <br/>. */
function text(s: string): string {
  return s.replace(/&/g, '#amp;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;').replace(/\n/g, '<br/>')
}

function vertexLine(v: Vertex): string {
  const [open, close] = SHAPE[v.kind]
  return `${v.id}${open}${text(vertexText(v))}${close}`
}

export function renderTraceMermaid(r: TraceResult): string {
  const g = traceGraph(r)
  const out = ['---', `title: "${text(g.title)}"`, '---', 'flowchart LR']
  for (const [i, node] of nodesInOrder(g).entries()) {
    out.push(`  subgraph k${i + 1}["${text(node)}"]`)
    for (const v of g.vertices.filter((x) => x.node === node)) out.push(`    ${vertexLine(v)}`)
    out.push('  end')
  }
  for (const v of g.vertices.filter((x) => x.node === null)) out.push(`  ${vertexLine(v)}`)
  for (const e of g.edges) out.push(`  ${e.from} ${e.reply ? '-. reply .->' : '-->'} ${e.to}`)
  out.push('  classDef fail fill:#fde2e2,stroke:#c00000,stroke-width:3px,color:#c00000')
  out.push('  classDef unknown fill:#fff1d6,stroke:#c07000,stroke-width:2px,stroke-dasharray:4 3')
  const failed = g.vertices.filter((v) => v.status === 'fail').map((v) => v.id)
  const unknown = g.vertices.filter((v) => v.status === 'unknown').map((v) => v.id)
  if (failed.length > 0) out.push(`  class ${failed.join(',')} fail`)
  if (unknown.length > 0) out.push(`  class ${unknown.join(',')} unknown`)
  return `${out.join('\n')}\n`
}

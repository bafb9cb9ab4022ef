/** trace -o dot: the path as a Graphviz digraph, one cluster per Kubernetes node, the failing hop in red. */
import type {TraceResult} from '../trace/types.js'
import {nodesInOrder, traceGraph, vertexText, type Vertex, type VertexKind} from './path-graph.js'

const SHAPE: Record<VertexKind, string> = {
  pod: 'shape=box, style="rounded,filled", fillcolor="#e8f1fb"',
  veth: 'shape=box',
  bridge: 'shape=box3d',
  nic: 'shape=box',
  tunnel: 'shape=hexagon',
  underlay: 'shape=ellipse',
  nat: 'shape=parallelogram, style=filled, fillcolor="#fff6d6"',
}

/** A DOT double-quoted string: quotes and backslashes escaped, newlines as \n. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`
}

function vertexLine(v: Vertex): string {
  const status = v.status === 'fail' ? ', color="#c00000", fontcolor="#c00000", penwidth=2.5' : v.status === 'unknown' ? ', color="#c07000", fontcolor="#c07000", style=dashed, penwidth=2' : ''
  return `${v.id} [label=${quote(vertexText(v))}, ${SHAPE[v.kind]}${status}];`
}

export function renderTraceDot(r: TraceResult): string {
  const g = traceGraph(r)
  const out = [
    'digraph knet_trace {',
    `  graph [rankdir=LR, label=${quote(g.title)}, labelloc=t, fontname="Helvetica", fontsize=12];`,
    '  node [fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ]
  for (const [i, node] of nodesInOrder(g).entries()) {
    out.push(`  subgraph cluster_${i + 1} {`, `    label=${quote(node)}; style=rounded; color="#888888";`)
    for (const v of g.vertices.filter((x) => x.node === node)) out.push(`    ${vertexLine(v)}`)
    out.push('  }')
  }
  for (const v of g.vertices.filter((x) => x.node === null)) out.push(`  ${vertexLine(v)}`)
  for (const e of g.edges) out.push(`  ${e.from} -> ${e.to}${e.reply ? ' [style=dashed, label="reply"]' : ''};`)
  out.push('}')
  return `${out.join('\n')}\n`
}

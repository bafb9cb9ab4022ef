/**
 * One fault, one row: findings of the same check whose messages say the same thing apart from
 * their own subject and node are one fault seen in several places — a stale endpoint's DNAT on
 * three nodes for two Services is one fault, not six. Only the human views group; the JSON keeps
 * one finding per node and subject.
 */
import type {Finding, Subject} from '../report/finding.js'
import {severityRank, type Severity} from '../report/severity.js'
import {nameList, shortEvidence} from './evidence-source.js'

export interface FindingGroup {
  check: string
  severity: Severity
  /** In the report's order, without repeats. */
  subjects: Subject[]
  /** Every node a finding of the group names, sorted. */
  nodes: string[]
  /** The first finding's message (it names the first subject). */
  message: string
  findings: Finding[]
}

/** Node-level faults break every path through a node, so they come before a Service's or a pod's. */
const KIND_ORDER: Subject['kind'][] = ['cluster', 'node', 'service', 'pod', 'networkpolicy']

/** `order`: check ids in catalogue order, which puts the faults that break the most paths first. */
export function groupFindings(findings: readonly Finding[], order: readonly string[] = []): FindingGroup[] {
  const groups = new Map<string, FindingGroup>()
  for (const f of findings) {
    const key = [f.severity, f.check, f.subject.kind, genericMessage(f)].join('\u0000')
    const g = groups.get(key)
    if (!g) {
      groups.set(key, {check: f.check, severity: f.severity, subjects: [f.subject], nodes: f.node ? [f.node] : [], message: f.message, findings: [f]})
      continue
    }
    g.findings.push(f)
    if (!g.subjects.some((s) => sameSubject(s, f.subject))) g.subjects.push(f.subject)
    if (f.node && !g.nodes.includes(f.node)) g.nodes.push(f.node)
  }
  const ordered = [...groups.values()]
  for (const g of ordered) g.nodes.sort((a, b) => a.localeCompare(b, 'en', {numeric: true}))
  const rank = (id: string) => (order.includes(id) ? order.indexOf(id) : order.length)
  const kind = (g: FindingGroup) => KIND_ORDER.indexOf(g.subjects[0]?.kind ?? 'cluster')
  // Stable: what ties keeps the report's own order.
  return ordered
    .map((g, i) => ({g, i}))
    .sort((a, b) => severityRank(b.g.severity) - severityRank(a.g.severity) || kind(a.g) - kind(b.g) || rank(a.g.check) - rank(b.g.check) || a.i - b.i)
    .map(({g}) => g)
}

function sameSubject(a: Subject, b: Subject): boolean {
  return a.kind === b.kind && a.namespace === b.namespace && a.name === b.name
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const word = (s: string) => new RegExp(`(?<![\\w.-])${escape(s)}(?![\\w-]|\\.\\w)`, 'g')

/** The message with its own subject and node replaced by placeholders. */
function genericMessage(f: Finding): string {
  let m = f.message
  if (f.subject.namespace) m = m.replace(word(`${f.subject.namespace}/${f.subject.name}`), '\u0001S')
  m = m.replace(word(f.subject.name), '\u0001S')
  if (f.node) m = m.replace(word(f.node), '\u0001N')
  return m
}

const PLURAL: Record<Subject['kind'], string> = {node: 'nodes', pod: 'pods', service: 'services', networkpolicy: 'networkpolicies', cluster: 'clusters'}

/** "node node-1", "services default/web, default/web-np". */
export function subjectsText(subjects: readonly Subject[]): string {
  const first = subjects[0]
  if (!first) return ''
  const names = subjects.map((s) => (s.namespace ? `${s.namespace}/${s.name}` : s.name))
  return `${subjects.length === 1 ? first.kind : PLURAL[first.kind]} ${nameList(names, 6)}`
}

/** The nodes, when they say more than the subjects do (a node's own fault names it already). */
export function nodesText(g: FindingGroup): string | undefined {
  if (g.nodes.length === 0) return undefined
  const subjectNodes = g.subjects.every((s) => s.kind === 'node') ? g.subjects.map((s) => s.name) : []
  if (g.nodes.every((n) => subjectNodes.includes(n))) return undefined
  return `on ${nameList(g.nodes, 6)}`
}

export interface GroupEvidence {
  source: string
  text: string
}

/**
 * The lines that prove the fault, from its first subject's findings: one line per distinct text,
 * its source naming every node that showed it ("node-1, node-2, node-3 iptables nat").
 */
export function groupEvidence(g: FindingGroup): GroupEvidence[] {
  const first = g.subjects[0] as Subject
  const lines = new Map<string, {kind: string; nodes: string[]; text: string}>()
  for (const f of g.findings.filter((x) => sameSubject(x.subject, first))) {
    for (const e of f.evidence) {
      const s = shortEvidence(e)
      const key = `${s.kind}\u0000${s.text}`
      const line = lines.get(key)
      if (!line) lines.set(key, {kind: s.kind, nodes: s.node ? [s.node] : [], text: s.text})
      else if (s.node && !line.nodes.includes(s.node)) line.nodes.push(s.node)
    }
  }
  return [...lines.values()].map((l) => ({source: l.nodes.length > 0 ? `${nameList(l.nodes)} ${l.kind}` : l.kind, text: l.text}))
}

/**
 * The one finding model every check reports in. A finding names its subject and carries its
 * evidence: the exact route line, rule line or object field, and where it came from. A finding
 * without evidence is not a finding (the registry test enforces it).
 */
import type {Severity} from './severity.js'

export type SubjectKind = 'node' | 'pod' | 'service' | 'networkpolicy' | 'cluster'

export interface Subject {
  kind: SubjectKind
  namespace?: string
  name: string
}

export interface Evidence {
  /** Where it came from: "node-1: ip -j route show table all", "api: Service default/web spec.ports[0].targetPort". */
  source: string
  /** The exact line or field value. */
  text: string
}

export interface Finding {
  check: string
  severity: Severity
  subject: Subject
  /** The node whose evidence shows it, for per-node findings. */
  node?: string
  message: string
  evidence: Evidence[]
  /** For a finding about one address family of a dual-stack cluster (IPv6 forwarding, ip6tables…): which. */
  family?: 4 | 6
}

export interface Skipped {
  check: string
  /** Why, specifically: "iptables-save unavailable on node-2 (permission denied)". */
  reason: string
}

export function subjectText(s: Subject): string {
  return s.namespace ? `${s.kind} ${s.namespace}/${s.name}` : `${s.kind} ${s.name}`
}

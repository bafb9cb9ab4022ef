import type {NodeDatapath} from '../model/node.js'
import type {ConntrackEntry, ConntrackTuple} from '../parse/conntrack.js'
import type {Finding} from '../report/finding.js'
import {nodeEvidence} from './evidence.js'
import {hostPort} from '../net/cidr.js'
import type {Check} from './types.js'

export const conntrackStale: Check = {
  id: 'conntrack-stale',
  title: 'No conntrack entries for Services point at vanished pods',
  severity: 'warn',
  requires: ['cluster:pods', 'cluster:services', 'cluster:endpointslices', 'node:conntrack'],
  remediation: 'conntrack -D -p udp --orig-dst SERVICE_IP --reply-src OLD_POD_IP on the node (kube-proxy normally does this for UDP when an endpoint goes away)',
  explanation:
    'A connection to a ClusterIP is pinned, in conntrack, to the pod it was DNATed to. UDP flows (DNS above all) keep being refreshed by new packets, so after the pod is gone they keep going to an IP no pod owns: lookups time out until the entry is deleted. Only entries that can still carry traffic count: UDP and other stateless flows, and TCP (or SCTP, DCCP) connections that are not closing; a connection that closed normally lingers in TIME_WAIT (or CLOSE, LAST_ACK…) until it expires and pins nothing.',
  run(ctx) {
    const index = ctx.model.index
    const serviceIPs = new Set(ctx.cluster().services.flatMap((s) => s.clusterIPs))
    const owned = (ip: string) => index.podsByIp().has(ip) || index.endpointAddresses().has(ip) || index.nodeByAddress().has(ip)
    const findings: Finding[] = []
    for (const node of ctx.nodes) {
      const groups = new Map<string, {entries: ConntrackEntry[]; id: string}>()
      const scan = (entries: ConntrackEntry[] | undefined, id: string) => {
        for (const e of entries ?? []) {
          const reply = e.reply
          if (!reply || !serviceIPs.has(e.original.dst) || reply.src === e.original.dst || owned(reply.src) || finished(e)) continue
          const key = `${e.protocol}|${e.original.dst}|${e.original.dport ?? ''}|${reply.src}`
          const g = groups.get(key)
          if (g) g.entries.push(e)
          else groups.set(key, {entries: [e], id})
        }
      }
      scan(node.conntrack4, 'conntrack')
      scan(node.conntrack6, 'conntrack6')
      for (const {entries, id} of [...groups.values()].sort((a, b) => rank(a.entries[0]) - rank(b.entries[0]))) {
        const e = entries[0] as ConntrackEntry
        const reply = e.reply as ConntrackTuple
        const dns = e.original.dport === 53
        findings.push(
          ctx.finding({
            subject: serviceSubject(ctx.cluster().services, e.original.dst),
            node: node.name,
            ...(dns && e.protocol === 'udp' ? {severity: 'error' as const} : {}),
            ...(id === 'conntrack6' ? {family: 6 as const} : {}),
            message: `${entries.length} ${e.protocol}${dns ? ' (DNS)' : ''} conntrack entr${entries.length === 1 ? 'y' : 'ies'} to ${hostPort(e.original.dst, e.original.dport ?? '')}${e.original.dport === null ? ':' : ''} still reply from ${reply.src}, which no pod owns`,
            evidence: entries.slice(0, 3).map((x) => entryEvidence(node, id, x)),
          }),
        )
      }
    }
    return findings
  },
}

/**
 * Connection-oriented states past the point where either side closed: the connection ends without
 * carrying new requests, and the entry expires on its own (TIME_WAIT is 120 s by default).
 */
const CLOSING = new Set(['FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'CLOSED', 'SHUTDOWN_SENT', 'SHUTDOWN_RECD', 'SHUTDOWN_ACK_SENT', 'CLOSEREQ', 'CLOSING', 'TIMEWAIT'])

function finished(e: ConntrackEntry): boolean {
  return e.state !== null && CLOSING.has(e.state)
}

function rank(e: ConntrackEntry | undefined): number {
  if (!e) return 9
  return (e.protocol === 'udp' ? 0 : 2) + (e.original.dport === 53 ? 0 : 1)
}

function serviceSubject(services: {namespace: string; name: string; clusterIPs: string[]}[], ip: string): Finding['subject'] {
  const svc = services.find((s) => s.clusterIPs.includes(ip))
  return svc ? {kind: 'service', namespace: svc.namespace, name: svc.name} : {kind: 'cluster', name: ip}
}

function tuple(t: ConntrackTuple): string {
  return [`src=${t.src}`, `dst=${t.dst}`, ...(t.sport === null ? [] : [`sport=${t.sport}`]), ...(t.dport === null ? [] : [`dport=${t.dport}`])].join(' ')
}

/** The entry as conntrack -L prints it (counters, mark and zone left out). */
function entryEvidence(node: NodeDatapath, id: string, e: ConntrackEntry) {
  const head = [e.protocol, String(e.protocolNumber), ...(e.timeout === null ? [] : [String(e.timeout)]), ...(e.state ? [e.state] : [])].join(' ')
  const unreplied = e.flags.includes('UNREPLIED') ? ' [UNREPLIED]' : ''
  const assured = e.flags.includes('ASSURED') ? ' [ASSURED]' : ''
  const text = `${head} ${tuple(e.original)}${unreplied} ${e.reply ? tuple(e.reply) : ''}${assured}`
  return nodeEvidence(node, id, `${text.trim()} (line ${e.line})`)
}

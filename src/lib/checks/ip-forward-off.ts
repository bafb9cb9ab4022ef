import type {Finding} from '../report/finding.js'
import {nodeEvidence, sysctlText} from './evidence.js'
import {noPodsReason} from './pod-host.js'
import type {Check} from './types.js'
import type {CheckContext} from './context.js'
import type {NodeDatapath} from '../model/node.js'
import {ipv6PodsOn} from './ipv6-pods.js'
import {parseIp} from '../net/cidr.js'

const V6_KEY = 'net.ipv6.conf.all.forwarding'
const V6_IFACE = /^net\.ipv6\.conf\.([^.]+)\.forwarding$/

/**
 * IPv6: judged only where pods have IPv6 addresses or an IPv6 pod range (an IPv4-only node may well
 * have it off). The kernel's ip6_forward reads conf.all.forwarding alone (ip-sysctl: "IPv6 forwarding
 * between all interfaces"; writing it sets every interface's value too). An interface's own
 * `forwarding` only chooses host or router behaviour there (the IsRouter flag in neighbour
 * advertisements, whether router advertisements and redirects are accepted): with all=1 an interface
 * at 0 still forwards, with all=0 one at 1 does not. So only all=0 is a finding, and interfaces left
 * at 1 are named as not helping. (Kernels from 6.17 also have a per-interface force_forwarding,
 * which forwards what arrives there whatever all says; it is not gathered.)
 */
function ipv6Forwarding(ctx: CheckContext, node: NodeDatapath): Finding | undefined {
  const pods = ipv6PodsOn(ctx.model, node)
  if (!pods) return undefined
  // The sysctls listing reads conf.all.forwarding; the per-interface listing holds it too.
  const fromSysctls = (node.sysctls ?? []).filter((e) => e.key === V6_KEY).at(-1)
  const fromListing = fromSysctls ? undefined : (node.ipv6Forwarding ?? []).filter((e) => e.key === V6_KEY).at(-1)
  const entry = fromSysctls ?? fromListing
  if (!entry) {
    ctx.skip(`${V6_KEY} is not in the sysctls output of ${node.name}, so IPv6 forwarding was not judged`)
    return undefined
  }
  if (entry.value.trim() !== '0') return undefined
  const what = pods.addresses.length ? `its pods' IPv6 addresses (${pods.addresses.join(', ')})` : `its IPv6 pod range ${pods.cidrs.join(', ')}`
  const on = (node.ipv6Forwarding ?? []).filter((e) => e.value.trim() === '1' && !['all', 'default'].includes(V6_IFACE.exec(e.key)?.[1] ?? 'all'))
  const names = on.map((e) => (V6_IFACE.exec(e.key)?.[1] ?? '').replaceAll('/', '.'))
  const note = names.length ? `; ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''} ${names.length === 1 ? 'has its' : 'have their'} own forwarding at 1, which only makes ${names.length === 1 ? 'it' : 'them'} act as a router (IPv6 forwards by conf.all.forwarding alone)` : ''
  return ctx.finding({
    subject: {kind: 'node', name: node.name},
    node: node.name,
    family: 6,
    message: `${V6_KEY} is 0: the node routes no IPv6 packet, so IPv6 traffic of ${what} does not leave or reach the node (IPv4 is unaffected)${note}`,
    evidence: [nodeEvidence(node, fromSysctls ? 'sysctls' : 'ipv6-forwarding', sysctlText(entry)), pods.evidence, ...on.slice(0, 1).map((e) => nodeEvidence(node, 'ipv6-forwarding', sysctlText(e)))],
  })
}

/** The API lists the node's pods and none of them has an IPv4 address, while some have IPv6 ones. */
function ipv6Only(ctx: CheckContext, node: NodeDatapath): boolean {
  const pods = (ctx.model.cluster?.pods ?? []).filter((p) => p.node === node.name && !p.hostNetwork && p.podIPs.length > 0)
  return pods.length > 0 && pods.every((p) => p.podIPs.every((ip) => parseIp(ip)?.family === 6))
}

export const ipForwardOff: Check = {
  id: 'ip-forward-off',
  title: 'IP forwarding is on',
  severity: 'error',
  requires: ['node:sysctls'],
  remediation: 'sysctl -w net.ipv4.ip_forward=1 (for IPv6: net.ipv6.conf.all.forwarding=1) and persist it in /etc/sysctl.d/ (something — a reboot, a security baseline, Docker being removed — turned it off)',
  explanation:
    'With net.ipv4.ip_forward=0 the node drops every packet it would have to route, so no pod on it can talk to anything outside the node and no other node can reach its pods. A host that carries no pods (the API lists none on it; without the API, it has no CNI interface or config) needs no forwarding and is skipped with that reason. IPv6 has its own switch, net.ipv6.conf.all.forwarding: with it off the node routes no IPv6 packet, so on a node whose pods have IPv6 addresses (dual-stack or IPv6-only) their IPv6 traffic to anything off the node dies while IPv4 still works. An interface\'s own net.ipv6.conf.IFACE.forwarding does not turn forwarding on or off (it switches host or router behaviour on that link), so it is not reported by itself.',
  run(ctx) {
    const findings: Finding[] = []
    for (const node of ctx.nodes) {
      const noPods = noPodsReason(ctx.model, node, 'net.ipv4.ip_forward')
      if (noPods) {
        ctx.skip(noPods)
        continue
      }
      const v6 = ipv6Forwarding(ctx, node)
      if (v6) findings.push(v6)
      const entry = (node.sysctls ?? []).filter((e) => e.key === 'net.ipv4.ip_forward').at(-1)
      if (!entry) {
        // An IPv6-only cluster's node: pods have no IPv4 address to forward.
        if (!ipv6Only(ctx, node)) ctx.skip(`net.ipv4.ip_forward is not in the sysctls output of ${node.name}`)
        continue
      }
      if (entry.value.trim() !== '0' || ipv6Only(ctx, node)) continue
      findings.push(
        ctx.finding({
          subject: {kind: 'node', name: node.name},
          node: node.name,
          message: 'net.ipv4.ip_forward is 0: the node does not route packets for its pods',
          evidence: [nodeEvidence(node, 'sysctls', sysctlText(entry))],
        }),
      )
    }
    return findings
  },
}

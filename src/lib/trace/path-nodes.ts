/**
 * Which nodes a trace can touch, decided from the cluster state before anything is gathered: the
 * source's node (or the entry node), the destination's node, every endpoint node of a Service (and
 * of a NodePort behind a node IP). The walk never enters any other node — a next hop elsewhere is
 * already a failure on the node that chose it. An address the API does not place (no pod, node,
 * Service or pod CIDR has it) may live anywhere, so then every node is read.
 */
import type {ClusterEvidence} from '../gather/cluster/evidence.js'
import {buildClusterModel, type ClusterModel} from '../model/cluster.js'
import {cidrContains} from '../net/cidr.js'
import type {ResolvedEndpoint} from './endpoints.js'
import {resolveRequest, type TraceRequest} from './path.js'
import {podByIp} from './walk.js'

function nodeOf(cluster: ClusterModel, ip: string, nodeName?: string): string | undefined {
  return nodeName ?? podByIp(cluster, ip)?.node ?? cluster.nodes.find((n) => n.podCIDRs.some((c) => cidrContains(c, ip)))?.name
}

function serviceNodes(cluster: ClusterModel, namespace: string, name: string): string[] {
  return cluster.endpointSlices
    .filter((s) => s.namespace === namespace && s.serviceName === name)
    .flatMap((s) => s.endpoints.flatMap((e) => e.addresses.map((a) => nodeOf(cluster, a, e.nodeName))))
    .filter((n): n is string => n !== undefined)
}

function destinationNodes(cluster: ClusterModel, d: ResolvedEndpoint): string[] | undefined {
  switch (d.kind) {
    case 'pod': return d.node ? [d.node] : []
    case 'service': return d.service ? serviceNodes(cluster, d.service.namespace, d.service.name) : []
    case 'node': {
      // A NodePort on that node: its endpoints are where the packet may go next.
      const behind = d.port === null ? [] : cluster.services.filter((s) => s.ports.some((p) => p.nodePort === d.port)).flatMap((s) => serviceNodes(cluster, s.namespace, s.name))
      return [...(d.node ? [d.node] : []), ...behind]
    }
    case 'external': {
      const owner = nodeOf(cluster, d.ip)
      return owner ? [owner] : undefined
    }
  }
}

/** The names of the nodes to gather for this trace, or undefined for all of them. */
export function pathNodes(cluster: ClusterEvidence, request: TraceRequest): string[] | undefined {
  const model = buildClusterModel(cluster)
  const {source, destination} = resolveRequest(model, request)
  const to = destinationNodes(model, destination)
  if (!to) return undefined
  const from = source.kind === 'external' ? request.entryNode : (source.node ?? undefined)
  return [...new Set([...(from ? [from] : []), ...to])].sort()
}

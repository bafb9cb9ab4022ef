/**
 * Calico's IPAMBlock objects (crd.projectcalico.org/v1): the address blocks Calico IPAM carves its
 * pools into, each held by one node ("affinity: host:NODE"). They are the pod ranges of a Calico
 * cluster, where spec.podCIDR is not; the nodes' routes show the same blocks only once they are
 * programmed. Blocks without a host affinity (unclaimed, or held by something other than a node)
 * and blocks being deleted hold no node's pods and are left out.
 */
import {parseCidr} from '../../net/cidr.js'
import {buildEach, bool, meta, rec, str, type ModelProblem} from './read.js'

export interface IpamBlockModel {
  name: string
  namespace: ''
  /** spec.cidr, normalised. */
  cidr: string
  /** The node named by spec.affinity "host:NODE" (which may no longer exist). */
  node: string
}

const HOST_AFFINITY = 'host:'

export function buildIpamBlocks(raw: unknown[], problems: ModelProblem[], release = false): IpamBlockModel[] {
  return buildEach(raw, (obj, i) => blockOf(obj, i, problems), release)
}

function blockOf(obj: unknown, i: number, problems: ModelProblem[]): IpamBlockModel | undefined {
  const m = meta(obj)
  if (!m) return void problems.push({subject: `ipamBlocks[${i}]`, message: 'IPAMBlock without metadata.name ignored'})
  const spec = rec(rec(obj).spec)
  const affinity = str(spec.affinity) ?? ''
  if (bool(spec.deleted) === true || !affinity.startsWith(HOST_AFFINITY) || affinity.length === HOST_AFFINITY.length) return undefined
  const text = str(spec.cidr)
  const cidr = text?.includes('/') ? parseCidr(text) : undefined
  if (!cidr) return void problems.push({subject: `IPAMBlock ${m.name}`, message: `spec.cidr ${JSON.stringify(spec.cidr)} is not a CIDR`})
  return {name: m.name, namespace: '', cidr: cidr.text, node: affinity.slice(HOST_AFFINITY.length)}
}

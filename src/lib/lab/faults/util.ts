/** Small lookups and argv builders the faults share; every argv names a lab namespace. */
import {badInput} from '../../report/errors.js'
import {inNetns, run} from '../exec.js'
import type {KubeObject} from '../objects.js'
import type {LabPlan, NodePlan, PodPlan} from '../plan.js'
import {routeArgv} from '../steps.js'

export function requireNode(plan: LabPlan, name: string, flag = '--node'): NodePlan {
  const node = plan.nodes.find((n) => n.name === name)
  if (!node) throw badInput(`${flag}: no node "${name}" in lab ${plan.params.name}`, `nodes: ${plan.nodes.map((n) => n.name).join(', ')}`)
  return node
}

export function requirePod(plan: LabPlan, ref: string): PodPlan {
  const name = ref.replace(/^pod\//, '').split('/').pop() ?? ref
  const pod = plan.pods.find((p) => p.name === name)
  if (!pod) throw badInput(`--target: no pod "${ref}" in lab ${plan.params.name}`, `pods: ${plan.pods.map((p) => p.name).join(', ')}`)
  return pod
}

export function nodeOfPod(plan: LabPlan, pod: PodPlan): NodePlan {
  return requireNode(plan, pod.node)
}

/** The node's pod bridge; faults that act on it refuse a ptp node, which has none. */
export function requireBridge(node: NodePlan, id: string): NonNullable<NodePlan['bridge']> {
  if (!node.bridge) throw badInput(`${id} needs a pod bridge; ${node.name} has none (ptp)`)
  return node.bridge
}

/**
 * Bring a pod's host-side veth back up. On ptp, taking it down made the kernel drop the pod's /32
 * route through it (as for any route on a link set down), so that route is put back too.
 */
export function hostVethUp(node: NodePlan, pod: PodPlan): string[][] {
  const route = node.routes.find((r) => r.purpose === 'pod' && r.toPod === pod.name)
  return [['ip', '-n', node.netns, 'link', 'set', pod.hostVeth, 'up'], ...(route ? [routeArgv('replace', node.netns, route)] : [])]
}

/** The node the fault acts on; faults that need one reject "all". */
export function oneNode(node: NodePlan | undefined, id: string): NodePlan {
  if (!node) throw badInput(`${id} acts on one node: give --node NAME`)
  return node
}

export function iptables(node: NodePlan, ...args: string[]): string[] {
  return inNetns(node.netns, ['iptables', '-w', ...args])
}

export function sysctlWrite(netns: string, key: string, value: string): string[] {
  return inNetns(netns, ['sysctl', '-qw', `${key}=${value}`])
}

export async function sysctlRead(netns: string, key: string): Promise<string> {
  return (await run(inNetns(netns, ['sysctl', '-n', key]))).stdout.trim()
}

/** Run argv in order (break steps); stops at the first failure. */
export async function runAll(list: string[][]): Promise<void> {
  for (const argv of list) await run(argv)
}

/** The objects without a pod: its Pod deleted and its address gone from every EndpointSlice. */
export function withoutPod(objects: KubeObject[], podName: string): KubeObject[] {
  return objects
    .filter((o) => !(o.kind === 'Pod' && (o.metadata as {name?: string}).name === podName))
    .map((o) => {
      if (o.kind !== 'EndpointSlice') return o
      const endpoints = (o.endpoints as {targetRef?: {name?: string}}[]).filter((e) => e.targetRef?.name !== podName)
      return {...o, endpoints}
    })
}

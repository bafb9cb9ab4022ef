import {nodeOfPod, requireBridge, requirePod, runAll} from './util.js'
import type {Fault} from './types.js'

export const DOCKER0 = {name: 'docker0', cidr: '172.17.0.1/16'} as const

/** The target pod's address inside 172.17.0.0/16: 172.17.NODE.HOST, mirroring its 10.244 address. */
export function overlapIp(podIp: string): string {
  const [, , node, host] = podIp.split('.')
  return `172.17.${node}.${host}`
}

export const docker0Overlap: Fault = {
  id: 'docker0-overlap',
  emulates:
    "Docker's default bridge docker0 (172.17.0.1/16) on every node of a cluster whose pod network lies partly inside 172.17.0.0/16 (seed 000's worst case): each node's connected /16 route to the empty docker0 bridge beats the route that should carry the traffic.",
  expect:
    "The target pod (default web-2-2) gets a second address in 172.17.0.0/16 (172.17.2.3), reachable through the underlay router: pods on other nodes → 172.17.2.3: timeout (routed into docker0); pods on the target's own node → 172.17.2.3: delivered (cbr0's /24 is more specific); all 10.244 traffic delivered.",
  api: 'Linux only: the API does not list docker0, and the Pod object keeps only its 10.244 address.',
  defaults: {node: 'all', target: 'web-2-2'},
  targetHelp: 'the pod that gets an address inside 172.17.0.0/16 (--node: where docker0 is added; default every node)',
  real: {does: 'as emulated, with the realised pod address (172.17.NODE.HOST mirrors it): no controller knows docker0.'},
  notFor: {ptp: "the pod's second range is given a gateway on the pod bridge; a ptp node has none", 'calico-vxlan': "the pod's second range is given a gateway on the pod bridge; a Calico node has none", 'aws-vpc': "the pod's second range is given a gateway on the pod bridge; an AWS VPC CNI node has none"},
  async break(ctx) {
    const pod = requirePod(ctx.plan, ctx.target)
    const home = nodeOfPod(ctx.plan, pod)
    const bridge = requireBridge(home, this.id)
    const ip = overlapIp(pod.ip)
    const net = `${ip.split('.').slice(0, 3).join('.')}.0/24`
    const gateway = `${ip.split('.').slice(0, 3).join('.')}.1`
    const steps: string[][] = []
    const undo: string[][] = []
    // docker0 on --node only when one is given; by default on every node, as Docker installs it.
    for (const node of ctx.node ? [ctx.node] : ctx.plan.nodes) {
      steps.push(['ip', '-n', node.netns, 'link', 'add', DOCKER0.name, 'type', 'bridge'], ['ip', '-n', node.netns, 'addr', 'add', DOCKER0.cidr, 'dev', DOCKER0.name], ['ip', '-n', node.netns, 'link', 'set', DOCKER0.name, 'up'])
      undo.push(['ip', '-n', node.netns, 'link', 'del', DOCKER0.name])
    }
    // The overlapping pod range: the pod's second address, its node's gateway for it, and the
    // underlay router's route to it (as a routed VPC would have), so only docker0 stands in the way.
    steps.push(
      ['ip', '-n', pod.netns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0'],
      ['ip', '-n', home.netns, 'addr', 'add', `${gateway}/24`, 'dev', bridge.name],
      ['ip', '-n', ctx.plan.router.netns, 'route', 'replace', net, 'via', home.underlayIp, 'dev', ctx.plan.router.bridge],
    )
    undo.push(
      ['ip', '-n', ctx.plan.router.netns, 'route', 'del', net, 'via', home.underlayIp, 'dev', ctx.plan.router.bridge],
      ['ip', '-n', home.netns, 'addr', 'del', `${gateway}/24`, 'dev', bridge.name],
      ['ip', '-n', pod.netns, 'addr', 'del', `${ip}/24`, 'dev', 'eth0'],
    )
    try {
      await runAll(steps)
    } catch (error) {
      for (const argv of undo) await runAll([argv]).catch(() => undefined)
      throw error
    }
    return {undo, data: {ip}}
  },
}

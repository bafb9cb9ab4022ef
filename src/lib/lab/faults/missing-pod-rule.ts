import {badInput} from '../../report/errors.js'
import {ruleArgv} from '../steps-aws.js'
import {nodeOfPod, requirePod, runAll} from './util.js'
import type {Fault} from './types.js'

export const missingPodRule: Fault = {
  id: 'missing-pod-rule',
  emulates:
    "A node lost the AWS VPC CNI's per-pod rule \"512: from all to POD lookup main\" (a network manager or another agent flushed policy routing it did not write, or the CNI ADD failed half-way): traffic to that pod from a pod of the same node on a secondary ENI now matches that pod's \"1536: from POD lookup 2\" first and leaves through the ENI's table, to the VPC's gateway, which hands it back to the node, which sends it out again until its TTL runs out.",
  expect: "web-2-2 (on node-2's secondary ENI) → web-2-1: error (ICMP time exceeded); web-2-1 → web-2-2: timeout (web-2-2's answer loops); web-2-2 → svc/default/web: partial with web-2-1 silent; other nodes' pods ↔ web-2-1 and every other pair delivered (no other rule of node-2 catches them before main).",
  api: 'Linux only: the Pod is Running and Ready in the API.',
  defaults: {node: 'node-2', target: 'web-2-1'},
  targetHelp: 'the pod whose "to POD lookup main" rule its node loses (its node is implied)',
  topologies: ['aws-vpc'],
  async break(ctx) {
    const pod = requirePod(ctx.plan, ctx.target)
    const node = nodeOfPod(ctx.plan, pod)
    const rule = node.aws?.rules.find((r) => r.to !== undefined && r.toPod === pod.name)
    if (!rule) throw badInput(`--target: ${node.name} has no rule of its own to ${pod.name}`)
    await runAll([ruleArgv('del', node.netns, rule)])
    return {undo: [ruleArgv('add', node.netns, rule)]}
  },
}

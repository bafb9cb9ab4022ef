import {run} from '../exec.js'
import {inNetns} from '../exec.js'
import {iptables, oneNode, runAll} from './util.js'
import type {NodePlan} from '../plan.js'
import {withFlannelStopped} from './real.js'
import type {Fault} from './types.js'

export const forwardDrop: Fault = {
  id: 'forward-drop',
  emulates:
    "The filter FORWARD policy is DROP, as Docker sets it when it starts on a Kubernetes node: new forwarded connections are dropped; only kube-proxy's marked and ESTABLISHED traffic would pass.",
  expect:
    'pods on node-1 ↔ pods on node-2, node-1 pods ↔ each other (bridged traffic passes FORWARD with bridge-nf-call-iptables=1) and node-1 pods → Services: timeout; node-2 ↔ node-2 delivered.',
  expectFor: {ptp: 'the same outcomes: node-1 routes its pods\' traffic to each other, so it passes FORWARD without br_netfilter.', 'aws-vpc': 'the same outcomes, as on ptp: routed eni veths, so same-node pod traffic passes FORWARD.'},
  api: 'Linux only.',
  defaults: {node: 'node-1', target: 'FORWARD'},
  targetHelp: 'fixed: the filter FORWARD chain',
  families: [4, 6],
  expect6: "on a dual-stack lab (--ip-family 6: ip6tables' FORWARD policy DROP on node-1): the same outcomes over IPv6, while IPv4 stays delivered.",
  real: withFlannelStopped(
    "flanneld's FLANNEL-FWD ACCEPT rules are what normally survive Docker's DROP policy: flanneld on --node hangs (SIGSTOP), its FLANNEL-FWD chain is flushed (as an iptables reset by another agent does) and the policy set to DROP; heal restores the policy, restarts flanneld and waits until FLANNEL-FWD is back.",
    {undoFirst: true, alsoMissing: flannelForwardMissing},
  ),
  async break(ctx) {
    const node = oneNode(ctx.node, this.id)
    if (ctx.family === 6) {
      const ip6tables = (...args: string[]): string[] => inNetns(node.netns, ['ip6tables', '-w', ...args])
      const listed6 = (await run(ip6tables('-S', 'FORWARD'))).stdout
      const before6 = /^-P FORWARD (\S+)/m.exec(listed6)?.[1] ?? 'ACCEPT'
      // Real dual-stack lab: flanneld writes FLANNEL-FWD in ip6tables too.
      if (/-j FLANNEL-FWD$/m.test(listed6)) await runAll([ip6tables('-F', 'FLANNEL-FWD')])
      await runAll([ip6tables('-P', 'FORWARD', 'DROP')])
      return {undo: [ip6tables('-P', 'FORWARD', before6)], data: {before: before6}}
    }
    const listed = (await run(iptables(node, '-S', 'FORWARD'))).stdout
    const before = /^-P FORWARD (\S+)/m.exec(listed)?.[1] ?? 'ACCEPT'
    // Real lab: flanneld's own ACCEPT rules for the pod network go first (its chain exists only there).
    if (/-j FLANNEL-FWD$/m.test(listed)) await runAll([iptables(node, '-F', 'FLANNEL-FWD')])
    await runAll([iptables(node, '-P', 'FORWARD', 'DROP')])
    return {undo: [iptables(node, '-P', 'FORWARD', before)], data: {before}}
  },
}

/** flanneld's FORWARD ACCEPT rules for the cluster CIDR, once it has (re)written them. */
async function flannelForwardMissing(node: NodePlan): Promise<string[]> {
  const listed = (await run(iptables(node, '-S', 'FLANNEL-FWD'))).stdout
  return /^-A FLANNEL-FWD .*-j ACCEPT/m.test(listed) ? [] : [`${node.name}: no ACCEPT rule in FLANNEL-FWD yet`]
}

import {CALICO_POD_GATEWAY} from '../plan.js'
import {nodeOfPod, requirePod, runAll, sysctlRead, sysctlWrite} from './util.js'
import type {Fault} from './types.js'

export const proxyArpOff: Fault = {
  id: 'proxy-arp-off',
  emulates:
    "proxy_arp is 0 on a Calico pod's host veth (Felix never configured the interface, or a sysctl reset or a network manager cleared it): nothing answers the pod's ARP for its gateway 169.254.1.1, an address no interface has, so the pod can send nothing — not even replies.",
  expect: 'web-2-2 → anything: timeout; anything → web-2-2: timeout (its replies need the gateway too); svc/default/web: partial with web-2-2 silent; every other pair delivered.',
  api: 'Linux only: the Pod is Running and Ready in the API.',
  defaults: {node: 'node-2', target: 'web-2-2'},
  targetHelp: "the pod whose host veth stops answering ARP (its node is implied)",
  notFor: {
    'host-gw': "the pods' gateway is cbr0's own address: answered without proxy ARP",
    vxlan: "the pods' gateway is cbr0's own address: answered without proxy ARP",
    ptp: "the pods' gateway is a /32 on each host veth: answered without proxy ARP",
    'aws-vpc': "each pod has a permanent neighbour entry for its gateway 169.254.1.1: it never asks",
  },
  async break(ctx) {
    const pod = requirePod(ctx.plan, ctx.target)
    const node = nodeOfPod(ctx.plan, pod)
    const key = `net.ipv4.conf.${pod.hostVeth}.proxy_arp`
    const before = await sysctlRead(node.netns, key)
    // What the pod knew of its gateway goes too, as for a pod just started: the next packet must ask.
    await runAll([sysctlWrite(node.netns, key, '0'), ['ip', '-n', pod.netns, 'neigh', 'flush', 'to', CALICO_POD_GATEWAY, 'dev', 'eth0']])
    return {undo: [sysctlWrite(node.netns, key, before), ['ip', '-n', pod.netns, 'neigh', 'flush', 'to', CALICO_POD_GATEWAY, 'dev', 'eth0']], data: {before}}
  },
}

/**
 * The aws-vpc plan and its argv (plan-aws.ts, steps-aws.ts): the AWS VPC CNI's layout, checked
 * exactly for one node of a 2 × 2 lab, so a change to the layout is a deliberate one.
 */
import {describe, expect, it} from 'vitest'
import {labObjects} from '../../../src/lib/lab/objects.js'
import {awsVethName} from '../../../src/lib/lab/plan-aws.js'
import {planLab} from '../../../src/lib/lab/plan.js'
import {nodeSteps, podSteps} from '../../../src/lib/lab/steps.js'

describe('aws-vpc plan', () => {
  const plan = planLab({name: 'aw', nodes: 2, podsPerNode: 2, topology: 'aws-vpc'})
  const node2 = plan.nodes[1]
  const [web21, web22] = plan.pods.filter((p) => p.node === 'node-2')

  it('pods are addresses of the VPC subnet on eni* veths, odd ones the primary ENI’s, even ones the secondary’s; Services point at them', () => {
    expect(plan.pods.map((p) => [p.name, p.ip, p.hostVeth === awsVethName('default', p.name), p.aws?.eni, p.gateway, p.prefix])).toEqual([
      ['web-1-1', '10.100.0.16', true, 'eth0', '169.254.1.1', 32],
      ['web-1-2', '10.100.0.17', true, 'eth1', '169.254.1.1', 32],
      ['web-2-1', '10.100.0.32', true, 'eth0', '169.254.1.1', 32],
      ['web-2-2', '10.100.0.33', true, 'eth1', '169.254.1.1', 32],
    ])
    expect(plan.services.find((s) => s.name === 'web')?.endpoints.map((e) => e.ip)).toEqual(['10.100.0.16', '10.100.0.17', '10.100.0.32', '10.100.0.33'])
    expect(node2?.bridge).toBeUndefined()
    expect(node2?.routes.map((r) => `${r.purpose} ${r.dst}${r.via ? ` via ${r.via}` : ''} dev ${r.dev}`)).toEqual(['default default via 10.100.0.1 dev eth0', `pod 10.100.0.32/32 dev ${web21?.hostVeth}`, `pod 10.100.0.33/32 dev ${web22?.hostVeth}`])
    expect(node2?.aws?.rules.map((r) => `${r.priority}: ${r.from ? `from ${r.from}` : 'from all'}${r.to ? ` to ${r.to}` : ''} lookup ${r.table}`)).toEqual([
      '512: from all to 10.100.0.32/32 lookup main',
      '512: from all to 10.100.0.33/32 lookup main',
      '1536: from 10.100.0.33/32 lookup 2',
    ])
  })

  it('argv: two ENIs on the router’s bridge, the secondary’s table, the rules, the pod’s static neighbour for its gateway, the ENI answering for the pod', () => {
    const ns = node2?.netns ?? ''
    const steps = node2 ? nodeSteps(plan, node2).map((s) => s.argv.join(' ')) : []
    expect(steps).toEqual(expect.arrayContaining([
      `ip -n ${ns} link add eth1 address 0e:61:0a:64:00:f2 mtu 1500 type veth peer name n2e1 netns ${plan.router.netns}`,
      `ip -n ${ns} addr add 10.100.0.242/24 dev eth1`,
      `ip -n ${ns} route del 10.100.0.0/24 dev eth1`,
      `ip -n ${ns} route replace 10.100.0.1/32 dev eth1 scope link table 2`,
      `ip -n ${ns} route replace default via 10.100.0.1 dev eth1 table 2`,
      `ip netns exec ${ns} sysctl -qw net.ipv4.conf.all.arp_ignore=1`,
    ]))
    const pod = node2 && web22 ? podSteps(node2, web22).map((s) => s.argv.join(' ')) : []
    expect(pod).toEqual(expect.arrayContaining([
      `ip -n ${web22?.netns} neigh replace 169.254.1.1 lladdr ${web22?.aws?.gatewayMac} dev eth0 nud permanent`,
      `ip -n ${ns} route replace 10.100.0.33/32 dev ${web22?.hostVeth} scope link`,
      `ip -n ${ns} rule add to 10.100.0.33/32 lookup main priority 512`,
      `ip -n ${ns} rule add from 10.100.0.33/32 lookup 2 priority 1536`,
      `ip -n ${ns} neigh replace proxy 10.100.0.33 dev eth1`,
    ]))
  })

  it('objects: Nodes without a pod CIDR, the aws-node DaemonSet, kube-proxy without a clusterCIDR', () => {
    const objects = labObjects(plan) as unknown as {kind: string; metadata: {name: string}; spec?: Record<string, unknown>; data?: Record<string, string>}[]
    expect(objects.filter((o) => o.kind === 'Node').map((o) => o.spec)).toEqual([{}, {}])
    expect(objects.filter((o) => o.kind === 'DaemonSet').map((o) => o.metadata.name)).toEqual(['kube-proxy', 'aws-node'])
    expect(Object.values(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kube-proxy')?.data ?? {}).join('')).toContain('clusterCIDR: \n')
  })
})

import {describe, expect, it} from 'vitest'
import {planLab} from '../../../src/lib/lab/plan.js'
import {nodeSteps, podSteps, routeArgv, routerSteps} from '../../../src/lib/lab/steps.js'

describe('steps', () => {
  const plan = planLab({name: 'knet', nodes: 2, podsPerNode: 1, topology: 'vxlan'})
  const node = plan.nodes[0]!
  const pod = plan.pods[0]!
  const all = [...routerSteps(plan), ...plan.nodes.flatMap((n) => nodeSteps(plan, n)), ...plan.pods.map((p) => podSteps(plan.nodes.find((n) => n.name === p.node)!, p)).flat()]

  it('every command names a lab namespace (nothing acts on the root namespace)', () => {
    for (const step of all) {
      const [tool, opt, ns] = step.argv
      expect(['ip', 'bridge']).toContain(tool)
      expect(['-n', 'netns']).toContain(opt)
      const target = opt === 'netns' ? step.argv[3] : ns
      expect(target).toMatch(/^knetlab-knet-/)
      expect(target).toBe(step.netns)
    }
  })

  it('creates the node NIC with its peer placed straight into the router namespace', () => {
    expect(nodeSteps(plan, node)[1]?.argv).toEqual(['ip', '-n', 'knetlab-knet-n1', 'link', 'add', 'eth0', 'address', '0a:58:0a:64:00:02', 'mtu', '1500', 'type', 'veth', 'peer', 'name', 'n1', 'netns', 'knetlab-knet-rt'])
  })

  it('writes flannel’s FDB, neighbour and onlink route', () => {
    const argvs = nodeSteps(plan, node).map((s) => s.argv.join(' '))
    expect(argvs).toContain('ip -n knetlab-knet-n1 link add flannel.1 address 0e:6b:6e:00:00:01 mtu 1450 type vxlan id 1 local 10.100.0.2 dev eth0 dstport 8472 nolearning')
    expect(argvs).toContain('bridge -n knetlab-knet-n1 fdb append 0e:6b:6e:00:00:02 dev flannel.1 dst 10.100.0.3')
    expect(argvs).toContain('ip -n knetlab-knet-n1 neigh replace 10.244.2.0 lladdr 0e:6b:6e:00:00:02 dev flannel.1 nud permanent')
    expect(argvs).toContain('ip -n knetlab-knet-n1 route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink')
  })

  it('joins a pod by a veth on cbr0 with hairpin on', () => {
    const argvs = podSteps(node, pod).map((s) => s.argv.join(' '))
    expect(argvs).toContain('ip -n knetlab-knet-n1 link add veth1 mtu 1450 type veth peer name eth0 netns knetlab-knet-n1-p1')
    expect(argvs).toContain('ip -n knetlab-knet-n1-p1 route replace default via 10.244.1.1 dev eth0')
    expect(argvs).toContain('ip -n knetlab-knet-n1 link set veth1 type bridge_slave hairpin on')
  })

  it('a route can be removed by the same description (a fault’s inverse)', () => {
    const route = node.routes.find((r) => r.id === 'node-1/pod-cidr/node-2')!
    expect(routeArgv('del', node.netns, route)).toEqual(['ip', '-n', 'knetlab-knet-n1', 'route', 'del', '10.244.2.0/24', 'via', '10.244.2.0', 'dev', 'flannel.1', 'onlink'])
  })
})

describe('steps: ptp (kindnet’s layout)', () => {
  const plan = planLab({name: 'knet', nodes: 2, podsPerNode: 1, topology: 'ptp'})
  const node = plan.nodes[0]!
  const pod = plan.pods[0]!

  it('the plan: no bridge, the gateway on every host veth, a scope-host /32 route per pod, host-gw routes between nodes', () => {
    expect([node.bridge, node.podGateway, pod.gateway, pod.prefix]).toEqual([undefined, '10.244.1.1', '10.244.1.1', 24])
    expect(node.routes).toEqual([
      {id: 'node-1/default', owner: 'node-1', dst: 'default', via: '10.100.0.1', dev: 'eth0', purpose: 'default'},
      {id: 'node-1/pod-cidr/node-2', owner: 'node-1', dst: '10.244.2.0/24', via: '10.100.0.3', dev: 'eth0', purpose: 'pod-cidr', toNode: 'node-2'},
      {id: 'node-1/pod/web-1-1', owner: 'node-1', dst: '10.244.1.2/32', dev: 'veth1', scope: 'host', purpose: 'pod', toPod: 'web-1-1'},
    ])
    expect(pod.routes).toEqual([
      {dst: '10.244.1.1/32', dev: 'eth0', scope: 'link', src: '10.244.1.2'},
      {dst: '10.244.1.0/24', via: '10.244.1.1', dev: 'eth0', src: '10.244.1.2'},
      {dst: 'default', via: '10.244.1.1', dev: 'eth0'},
    ])
  })

  it('builds what the CNI ptp plugin does: no bridge or br_netfilter on the node; pod routes via the gateway; the /32s on the node', () => {
    const nodeArgv = nodeSteps(plan, node).map((s) => s.argv.join(' '))
    expect(nodeArgv.filter((a) => /bridge|cbr0/.test(a))).toEqual([])
    // The per-pod route needs the pod's veth: it is the pod's last step, not the node's.
    expect(nodeArgv.filter((a) => /veth\d/.test(a))).toEqual([])
    expect(podSteps(node, pod).map((s) => s.argv.join(' '))).toEqual([
      'ip -n knetlab-knet-n1-p1 link set lo up',
      'ip -n knetlab-knet-n1 link add veth1 mtu 1500 type veth peer name eth0 netns knetlab-knet-n1-p1',
      'ip -n knetlab-knet-n1-p1 link set eth0 address 0a:58:0a:f4:01:02 mtu 1500',
      'ip -n knetlab-knet-n1-p1 addr add 10.244.1.2/24 dev eth0',
      'ip -n knetlab-knet-n1-p1 link set eth0 up',
      'ip -n knetlab-knet-n1-p1 route del 10.244.1.0/24 dev eth0',
      'ip -n knetlab-knet-n1-p1 route replace 10.244.1.1/32 dev eth0 scope link src 10.244.1.2',
      'ip -n knetlab-knet-n1-p1 route replace 10.244.1.0/24 via 10.244.1.1 dev eth0 src 10.244.1.2',
      'ip -n knetlab-knet-n1-p1 route replace default via 10.244.1.1 dev eth0',
      'ip -n knetlab-knet-n1 addr add 10.244.1.1/32 dev veth1',
      'ip -n knetlab-knet-n1 link set veth1 up',
      'ip -n knetlab-knet-n1 route replace 10.244.1.2/32 dev veth1 scope host',
    ])
  })
})

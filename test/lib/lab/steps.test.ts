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

import {describe, expect, it} from 'vitest'
import {kubeProxyIptablesRules} from '../../../src/lib/lab/kube-proxy-rules.js'
import {kubeProxyModelFor, labObjects} from '../../../src/lib/lab/objects.js'
import {planLab} from '../../../src/lib/lab/plan.js'
import {nodeSteps, podSteps, routerSteps} from '../../../src/lib/lab/steps.js'
import {resolveDestination, resolveSource} from '../../../src/lib/lab/targets.js'

// Tests read nested object fields freely; the shapes are asserted, not trusted.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any

describe('IPv6 and dual-stack lab plans', () => {
  const dual = planLab({name: 'knet', nodes: 2, podsPerNode: 2, topology: 'vxlan', ipFamily: 'dual'})
  const hostgw = planLab({name: 'knet', nodes: 2, podsPerNode: 2, topology: 'host-gw', ipFamily: 'dual'})
  const v6only = planLab({name: 'knet', nodes: 2, podsPerNode: 2, topology: 'host-gw', ipFamily: 'ipv6'})

  it("an IPv4 lab is unchanged: no IPv6 anywhere, families [4]", () => {
    const v4 = planLab({name: 'knet', nodes: 2, podsPerNode: 2, topology: 'vxlan'})
    expect(v4.ipFamilies).toEqual([4])
    expect(JSON.stringify(v4)).not.toContain('fd00:')
    expect(v4.pods[0]?.mtu).toBe(1450)
  })

  it("uses kind's dual-stack ranges: a /64 per node from fd00:10:244::/56, Services from fd00:10:96::/112", () => {
    expect([dual.ipFamilies, dual.clusterCIDR6, dual.serviceCIDR6, dual.underlayCIDR6]).toEqual([[4, 6], 'fd00:10:244::/56', 'fd00:10:96::/112', 'fd00:10:100::/64'])
    expect(dual.nodes.map((n) => [n.v6?.underlayIp, n.v6?.podCIDR, n.v6?.podGateway])).toEqual([
      ['fd00:10:100::2', 'fd00:10:244:1::/64', 'fd00:10:244:1::1'],
      ['fd00:10:100::3', 'fd00:10:244:2::/64', 'fd00:10:244:2::1'],
    ])
    expect(dual.pods.map((p) => [p.name, p.ip, p.ip6])).toEqual([
      ['web-1-1', '10.244.1.2', 'fd00:10:244:1::2'],
      ['web-1-2', '10.244.1.3', 'fd00:10:244:1::3'],
      ['web-2-1', '10.244.2.2', 'fd00:10:244:2::2'],
      ['web-2-2', '10.244.2.3', 'fd00:10:244:2::3'],
    ])
    expect(dual.services.map((s) => [s.name, s.clusterIP, s.clusterIP6])).toEqual([
      ['web', '10.96.0.80', 'fd00:10:96::80'],
      ['dns', '10.96.0.53', 'fd00:10:96::53'],
      ['web-np', '10.96.0.81', 'fd00:10:96::81'],
      ['empty', '10.96.0.99', 'fd00:10:96::99'],
    ])
  })

  it("vxlan: flannel-v6.1 beside flannel.1, routes, neighbours and FDB entries for the IPv6 VTEPs; pods' MTU fits IPv6's 70-byte overhead", () => {
    const n1 = dual.nodes[0]!
    expect(n1.v6?.vxlan).toEqual({device: 'flannel-v6.1', vni: 1, port: 8472, mac: '0e:6b:6e:06:00:01', ip: 'fd00:10:244:1::', local: 'fd00:10:100::2', mtu: 1430})
    expect(n1.vxlan?.device).toBe('flannel.1')
    expect(n1.routes.filter((r) => r.family === 6).map((r) => [r.id, r.dst, r.via, r.dev, r.onlink ?? false])).toEqual([
      ['node-1/default6', 'default', 'fd00:10:100::1', 'eth0', false],
      ['node-1/pod-cidr6/node-2', 'fd00:10:244:2::/64', 'fd00:10:244:2::', 'flannel-v6.1', true],
    ])
    expect(n1.fdb).toContainEqual({mac: '0e:6b:6e:06:00:02', dev: 'flannel-v6.1', dst: 'fd00:10:100::3', toNode: 'node-2'})
    expect(n1.neighbours).toContainEqual({ip: 'fd00:10:244:2::', mac: '0e:6b:6e:06:00:02', dev: 'flannel-v6.1', toNode: 'node-2'})
    expect([n1.bridge?.mtu, dual.pods[0]?.mtu]).toEqual([1430, 1430])
    const argv = nodeSteps(dual, n1).map((s) => s.argv.join(' '))
    expect(argv).toContain('ip -n knetlab-knet-n1 link add flannel-v6.1 address 0e:6b:6e:06:00:01 mtu 1430 type vxlan id 1 local fd00:10:100::2 dev eth0 dstport 8472 nolearning')
    expect(argv).toContain('ip -n knetlab-knet-n1 addr add fd00:10:244:1::/128 dev flannel-v6.1 nodad')
    expect(argv).toContain('bridge -n knetlab-knet-n1 fdb append 0e:6b:6e:06:00:02 dev flannel-v6.1 dst fd00:10:100::3')
  })

  it('host-gw: IPv6 pod /64s via the other node\'s IPv6 underlay address; no DAD, forwarding on, addresses kept on link down', () => {
    const n1 = hostgw.nodes[0]!
    expect(n1.routes.filter((r) => r.family === 6).map((r) => `${r.dst} via ${r.via} dev ${r.dev}`)).toEqual(['default via fd00:10:100::1 dev eth0', 'fd00:10:244:2::/64 via fd00:10:100::3 dev eth0'])
    const argv = nodeSteps(hostgw, n1).map((s) => s.argv.join(' '))
    expect(argv[0]).toBe(
      'ip netns exec knetlab-knet-n1 sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.keep_addr_on_down=1 net.ipv6.conf.default.keep_addr_on_down=1 net.ipv6.conf.all.forwarding=1',
    )
    expect(argv).toContain('ip -n knetlab-knet-n1 addr add fd00:10:100::2/64 dev eth0 nodad')
    expect(argv).toContain('ip -n knetlab-knet-n1 addr add fd00:10:244:1::1/64 dev cbr0 nodad')
    expect(argv).toContain('ip netns exec knetlab-knet-n1 sysctl -qw net.bridge.bridge-nf-call-ip6tables=1')
    const pod = podSteps(n1, hostgw.pods[0]!).map((s) => s.argv.join(' '))
    expect(pod).toContain('ip -n knetlab-knet-n1-p1 addr add fd00:10:244:1::2/64 dev eth0 nodad')
    expect(pod).toContain('ip -n knetlab-knet-n1-p1 route replace default via fd00:10:244:1::1 dev eth0')
    expect(pod).toContain('ip -n knetlab-knet-n1-p1 addr add 10.244.1.2/24 dev eth0')
    expect(routerSteps(hostgw).map((s) => s.argv.join(' '))).toContain('ip -n knetlab-knet-rt addr add fd00:10:100::1/64 dev br0 nodad')
  })

  it('IPv6-only: no IPv4 on the underlay, bridges, pods or routes', () => {
    expect(v6only.ipFamilies).toEqual([6])
    const n1 = v6only.nodes[0]!
    expect(n1.routes.every((r) => r.family === 6)).toBe(true)
    const argv = [...routerSteps(v6only), ...nodeSteps(v6only, n1), ...podSteps(n1, v6only.pods[0]!)].map((s) => s.argv.join(' '))
    expect(argv.filter((a) => / addr add 10\.| via 10\./.test(a))).toEqual([])
    const vx = planLab({name: 'knet', nodes: 2, podsPerNode: 1, topology: 'vxlan', ipFamily: 'ipv6'})
    expect([vx.nodes[0]?.vxlan, vx.nodes[0]?.v6?.vxlan?.device, vx.nodes[0]?.fdb.map((f) => f.dev)]).toEqual([undefined, 'flannel-v6.1', ['flannel-v6.1']])
  })

  it('refuses IPv6 on the topologies that do not carry it yet', () => {
    expect(() => planLab({name: 'knet', nodes: 2, podsPerNode: 1, topology: 'ptp', ipFamily: 'dual'})).toThrow('--ip-family dual needs topology host-gw or vxlan, not ptp')
  })

  it('objects: dual-stack Nodes, Pods, Services (RequireDualStack) and one EndpointSlice per family', () => {
    const objects = labObjects(dual) as Loose[]
    const of = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name)
    expect(of('Node', 'node-2').spec).toEqual({podCIDR: '10.244.2.0/24', podCIDRs: ['10.244.2.0/24', 'fd00:10:244:2::/64']})
    expect(of('Node', 'node-2').status.addresses).toEqual([
      {type: 'InternalIP', address: '10.100.0.3'},
      {type: 'InternalIP', address: 'fd00:10:100::3'},
      {type: 'Hostname', address: 'node-2'},
    ])
    expect(JSON.parse(of('Node', 'node-2').metadata.annotations['flannel.alpha.coreos.com/backend-v6-data'])).toEqual({VNI: 1, VtepMAC: '0e:6b:6e:06:00:02'})
    expect(of('Node', 'node-2').metadata.annotations['flannel.alpha.coreos.com/public-ipv6']).toBe('fd00:10:100::3')
    expect(of('Pod', 'web-2-2').status).toMatchObject({podIP: '10.244.2.3', podIPs: [{ip: '10.244.2.3'}, {ip: 'fd00:10:244:2::3'}], hostIPs: [{ip: '10.100.0.3'}, {ip: 'fd00:10:100::3'}]})
    expect(of('Service', 'web').spec).toMatchObject({clusterIP: '10.96.0.80', clusterIPs: ['10.96.0.80', 'fd00:10:96::80'], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack'})
    expect(of('EndpointSlice', 'dns-lab6')).toMatchObject({addressType: 'IPv6', endpoints: [{addresses: ['fd00:10:244:1::2']}, {addresses: ['fd00:10:244:2::2']}]})
    expect(of('EndpointSlice', 'dns-lab').addressType).toBe('IPv4')
    expect(objects.find((o) => o.kind === 'ServiceCIDR').spec.cidrs).toEqual(['10.96.0.0/16', 'fd00:10:96::/112'])
    expect(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kube-proxy').data['config.conf']).toContain('clusterCIDR: 10.244.0.0/16,fd00:10:244::/56')
    expect(JSON.parse(objects.find((o) => o.metadata.name === 'kube-flannel-cfg').data['net-conf.json'])).toEqual({
      Network: '10.244.0.0/16', EnableIPv6: true, IPv6Network: 'fd00:10:244::/56', Backend: {Type: 'vxlan', VNI: 1, Port: 8472},
    })
    const v6 = labObjects(v6only) as Loose[]
    expect(v6.find((o) => o.kind === 'Service' && o.metadata.name === 'web').spec).toMatchObject({clusterIP: 'fd00:10:96::80', clusterIPs: ['fd00:10:96::80'], ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack'})
    expect(v6.filter((o) => o.kind === 'EndpointSlice').map((o) => o.addressType)).toEqual(['IPv6', 'IPv6', 'IPv6', 'IPv6'])
  })

  it("kube-proxy's IPv6 rules: ip6tables-restore format, the same chains, [v6]:port DNATs, icmp6 rejects, no localnet rule", () => {
    const rules = kubeProxyIptablesRules(kubeProxyModelFor(dual, dual.nodes[0]!, 6))
    expect(rules).toContain('-A KUBE-SERVICES -d fd00:10:96::80/128 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-')
    expect(rules).toContain('! -s fd00:10:244::/56 -d fd00:10:96::80/128 -p tcp')
    expect(rules).toMatch(/-j DNAT --to-destination \[fd00:10:244:2::3\]:8080\n/)
    expect(rules).toContain('-d fd00:10:96::99/128 -p tcp -m comment --comment "default/empty:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp6-port-unreachable')
    expect(rules).not.toContain('127.0.0.0/8')
    expect(rules).not.toMatch(/\b10\.\d+\.\d+\.\d+/)
    expect(kubeProxyIptablesRules(kubeProxyModelFor(dual, dual.nodes[0]!))).toBe(kubeProxyIptablesRules({...kubeProxyModelFor(dual, dual.nodes[0]!, 4), ipFamily: undefined}))
  })

  it('probe targets: --ip-family picks the address of a name; [v6]:port and unbracketed lab addresses with a port', () => {
    expect(resolveSource(dual, 'web-1-1', 6).ip).toBe('fd00:10:244:1::2')
    expect(resolveSource(dual, 'node/node-2', 6).ip).toBe('fd00:10:100::3')
    expect(resolveDestination(dual, 'web-2-2', undefined, 6)).toEqual({input: 'web-2-2', kind: 'pod', name: 'pod/default/web-2-2', ip: 'fd00:10:244:2::3', port: 8080, protocol: 'tcp'})
    expect(resolveDestination(dual, 'svc/default/dns', undefined, 6)).toMatchObject({ip: 'fd00:10:96::53', port: 53, protocol: 'udp', service: {name: 'dns', endpoints: ['web-1-1', 'web-2-1']}})
    expect(resolveDestination(dual, '[fd00:10:96::80]:80')).toMatchObject({kind: 'ip', ip: 'fd00:10:96::80', port: 80, service: {name: 'web', via: 'clusterIP'}})
    expect(resolveDestination(dual, 'fd00:10:96::80:80')).toMatchObject({ip: 'fd00:10:96::80', port: 80, service: {name: 'web'}})
    expect(resolveDestination(dual, 'fd00:10:244:2::3')).toEqual({input: 'fd00:10:244:2::3', kind: 'pod', name: 'pod/default/web-2-2', ip: 'fd00:10:244:2::3', protocol: 'icmp'})
    expect(resolveDestination(dual, '[fd00:10:100::3]:30080')).toMatchObject({kind: 'node', name: 'node/node-2', service: {name: 'web-np', via: 'nodePort'}})
    expect(resolveDestination(dual, 'web-2-2').ip).toBe('10.244.2.3')
    expect(resolveDestination(v6only, 'web-2-2').ip).toBe('fd00:10:244:2::3')
    expect(() => resolveDestination(v6only, 'web-2-2', undefined, 4)).toThrow('lab knet has no IPv4 (its families: IPv6)')
    expect(() => resolveDestination(dual, '10.244.2.3', undefined, 6)).toThrow('10.244.2.3 is an IPv4 address, not IPv6')
  })
})

/**
 * The dual-stack real lab's pure parts: the programs' flags and configs, what the hollow kubelet
 * writes, the manifests, readiness in both families, and the plan realised with KCM's IPv6 pod
 * CIDRs (values as the real programs gave them in test/commands/lab-real-dualstack.test.ts).
 */
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {planLab} from '../../../../src/lib/lab/plan.js'
import {parseCniResult} from '../../../../src/lib/lab/real/cni.js'
import {apiServerSpec, controllerManagerSpec, type LabFiles} from '../../../../src/lib/lab/real/components.js'
import {flannelNetConf, kubeProxyConfig} from '../../../../src/lib/lab/real/configs.js'
import {parseVtepMac} from '../../../../src/lib/lab/real/flannel-annotations.js'
import {nodeManifest, podRunningPatch} from '../../../../src/lib/lab/real/kubelet-status.js'
import {serviceManifest} from '../../../../src/lib/lab/real/manifests.js'
import {dnatTargets, expectedDnatTargets, missingEndpoints} from '../../../../src/lib/lab/real/readiness.js'
import {realisePlan, shiftAddress6} from '../../../../src/lib/lab/real/realise.js'
import {underlaySteps} from '../../../../src/lib/lab/real/underlay.js'

const dual = planLab({name: 'd', nodes: 2, podsPerNode: 2, topology: 'vxlan', ipFamily: 'dual'})
const v4 = planLab({name: 'd', nodes: 2, podsPerNode: 2, topology: 'vxlan'})
const files = {dir: '/lab', bin: '/bin', pki: {caCert: 'ca', serverCert: 's', serverKey: 'k', saKey: 'sa', saPub: 'sap'}, tokenFile: 't', kubeconfigs: {'kube-controller-manager': 'kcm'}} as unknown as LabFiles
const flag = (argv: string[], name: string): string[] => argv.filter((a) => a.startsWith(`--${name}`))

describe('dual-stack real lab: programs', () => {
  it('gives kube-apiserver and KCM both Service ranges, KCM both pod ranges and a mask size per family', () => {
    expect(flag(apiServerSpec(dual, files).argv, 'service-cluster-ip-range')).toEqual(['--service-cluster-ip-range=10.96.0.0/16,fd00:10:96::/112'])
    const kcm = controllerManagerSpec(dual, files).argv
    expect([...flag(kcm, 'cluster-cidr'), ...flag(kcm, 'node-cidr-mask-size'), ...flag(kcm, 'service-cluster-ip-range')]).toEqual([
      '--cluster-cidr=10.244.0.0/16,fd00:10:244::/56',
      '--node-cidr-mask-size-ipv4=24',
      '--node-cidr-mask-size-ipv6=64',
      '--service-cluster-ip-range=10.96.0.0/16,fd00:10:96::/112',
    ])
    // IPv4 labs keep their single-stack flags.
    expect(flag(controllerManagerSpec(v4, files).argv, 'node-cidr-mask-size')).toEqual(['--node-cidr-mask-size=24'])
  })

  it("gives kube-proxy both cluster ranges and flanneld IPv6 with a VXLAN MTU that fits IPv6's 70 bytes", () => {
    expect((parse(kubeProxyConfig(dual, 'iptables', 'kc')) as {clusterCIDR: string}).clusterCIDR).toBe('10.244.0.0/16,fd00:10:244::/56')
    expect(JSON.parse(flannelNetConf(dual))).toEqual({Network: '10.244.0.0/16', EnableIPv6: true, IPv6Network: 'fd00:10:244::/56', Backend: {Type: 'vxlan', VNI: 1, Port: 8472, MTU: 1480}})
    expect(JSON.parse(flannelNetConf(planLab({name: 'd', nodes: 2, podsPerNode: 2, topology: 'host-gw', ipFamily: 'dual'})))).toEqual({Network: '10.244.0.0/16', EnableIPv6: true, IPv6Network: 'fd00:10:244::/56', Backend: {Type: 'host-gw'}})
    expect(JSON.parse(flannelNetConf(v4))).toEqual({Network: '10.244.0.0/16', Backend: {Type: 'vxlan', VNI: 1, Port: 8472}})
  })

  it("puts each node's IPv6 underlay address on eth0 (no DAD), IPv6 forwarding on, and its IPv6 default route", () => {
    const node1 = underlaySteps(dual).filter((s) => s.netns === dual.nodes[0]?.netns).map((s) => s.argv.join(' '))
    expect(node1).toEqual(
      expect.arrayContaining([
        expect.stringContaining('net.ipv6.conf.all.forwarding=1'),
        `ip -n ${dual.nodes[0]?.netns} addr add fd00:10:100::2/64 dev eth0 nodad`,
        `ip -n ${dual.nodes[0]?.netns} route replace default via fd00:10:100::1 dev eth0`,
      ]),
    )
    expect(underlaySteps(v4).some((s) => s.argv.join(' ').includes('ipv6'))).toBe(false)
  })
})

describe('dual-stack real lab: hollow kubelet and manifests', () => {
  it('registers both InternalIPs and reports both pod IPs, IPv4 first', () => {
    const node = nodeManifest({name: 'node-1', internalIP: '10.100.0.2', internalIP6: 'fd00:10:100::2'}, 'now') as {status: {addresses: {type: string; address: string}[]}}
    expect(node.status.addresses).toEqual([
      {type: 'InternalIP', address: '10.100.0.2'},
      {type: 'InternalIP', address: 'fd00:10:100::2'},
      {type: 'Hostname', address: 'node-1'},
    ])
    const patch = podRunningPatch({hostIP: '10.100.0.2', hostIP6: 'fd00:10:100::2', podIP: '10.244.0.2', podIP6: 'fd00:10:244::2', pid: 1, containers: [], startedAt: 'now'}) as {status: Record<string, unknown>}
    expect([patch.status.podIP, patch.status.podIPs, patch.status.hostIPs]).toEqual(['10.244.0.2', [{ip: '10.244.0.2'}, {ip: 'fd00:10:244::2'}], [{ip: '10.100.0.2'}, {ip: 'fd00:10:100::2'}]])
  })

  it("reads both addresses from the bridge plugin's dual-range result, and flannel-v6.1's MAC", () => {
    const result = {
      interfaces: [{name: 'cbr0', mac: 'aa:aa:aa:aa:aa:aa'}, {name: 'veth1', mac: 'bb:bb:bb:bb:bb:bb'}, {name: 'eth0', mac: 'cc:cc:cc:cc:cc:cc', sandbox: '/run/netns/p'}],
      ips: [
        {address: '10.244.0.2/24', gateway: '10.244.0.1', interface: 2},
        {address: 'fd00:10:244::2/64', gateway: 'fd00:10:244::1', interface: 2},
      ],
    }
    expect(parseCniResult(result)).toEqual({ip: '10.244.0.2', prefix: 24, gateway: '10.244.0.1', ip6: 'fd00:10:244::2', mac: 'cc:cc:cc:cc:cc:cc', hostVeth: 'veth1'})
    const annotations = {'flannel.alpha.coreos.com/backend-data': '{"VNIs":[1],"VtepMAC":"82:B6:61:51:45:E5"}', 'flannel.alpha.coreos.com/backend-v6-data': '{"VNIs":[1],"VtepMAC":"0e:e4:a8:14:c7:56"}'}
    expect([parseVtepMac(annotations), parseVtepMac(annotations, 6)]).toEqual(['82:b6:61:51:45:e5', '0e:e4:a8:14:c7:56'])
  })

  it('creates RequireDualStack Services with both planned ClusterIPs; IPv4 labs single-stack', () => {
    const web = dual.services.find((s) => s.name === 'web')
    const spec = serviceManifest(web as NonNullable<typeof web>).spec as Record<string, unknown>
    expect([spec.clusterIP, spec.clusterIPs, spec.ipFamilyPolicy, spec.ipFamilies]).toEqual(['10.96.0.80', ['10.96.0.80', 'fd00:10:96::80'], 'RequireDualStack', ['IPv4', 'IPv6']])
    const web4 = serviceManifest(v4.services.find((s) => s.name === 'web') as NonNullable<typeof web>).spec as Record<string, unknown>
    expect([web4.clusterIPs, web4.ipFamilyPolicy]).toEqual([undefined, undefined])
  })
})

describe('dual-stack real lab: readiness and the realised plan', () => {
  it('wants the IPv6 endpoints in the slices and the IPv6 DNATs in ip6tables and the ip6 nftables table', () => {
    const slices = [{metadata: {namespace: 'default', labels: {'kubernetes.io/service-name': 'dns', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io'}}, endpoints: [{addresses: ['10.244.1.2'], conditions: {ready: true}}, {addresses: ['10.244.2.2'], conditions: {ready: true}}]}]
    const dns = {...dual, services: dual.services.filter((s) => s.name === 'dns')}
    expect(missingEndpoints(dns, slices)).toEqual([
      'EndpointSlice of default/dns lacks ready fd00:10:244:1::2 (web-1-1)',
      'EndpointSlice of default/dns lacks ready fd00:10:244:2::2 (web-2-1)',
    ])
    expect(expectedDnatTargets(dns, 6)).toEqual(['[fd00:10:244:1::2]:5353', '[fd00:10:244:2::2]:5353'])
    expect(expectedDnatTargets(v4, 6)).toEqual([])
    expect([...dnatTargets('iptables', '-A KUBE-SEP-X -p tcp -m tcp -j DNAT --to-destination [fd00:10:244::2]:8080\n')]).toEqual(['[fd00:10:244::2]:8080'])
    const nft = '\t\tmeta l4proto tcp dnat ip6 to [fd00:10:244:1::3]:8080\n\t\tdnat ip6 to numgen random mod 2 map { 0 : fd00:10:244::2 . 8080, 1 : fd00:10:244:1::2 . 8080 }\n'
    expect([...dnatTargets('nftables', nft)].sort()).toEqual(['[fd00:10:244:1::2]:8080', '[fd00:10:244:1::3]:8080', '[fd00:10:244::2]:8080'])
  })

  it("moves every IPv6 address of a node's planned /64 to the /64 KCM allocated, and flannel-v6.1's MAC to flanneld's", () => {
    const shifts = [{from: 0xfd000010024400010000000000000000n, to: 0xfd000010024400000000000000000000n, last: 0xfd00001002440001ffffffffffffffffn}]
    expect(['fd00:10:244:1::2', 'fd00:10:244:1::/64', 'fd00:10:244:2::2', 'fd00:10:96::80', '10.244.1.2'].map((s) => shiftAddress6(s, shifts))).toEqual([
      'fd00:10:244::2',
      'fd00:10:244::/64',
      'fd00:10:244:2::2',
      'fd00:10:96::80',
      '10.244.1.2',
    ])
    const real = realisePlan(dual, {
      podCIDRs: {'node-1': '10.244.0.0/24', 'node-2': '10.244.1.0/24'},
      podCIDRs6: {'node-1': 'fd00:10:244::/64', 'node-2': 'fd00:10:244:1::/64'},
      vtepMacs6: {'node-1': '0e:e4:a8:14:c7:56', 'node-2': 'aa:a6:f3:c5:f2:c0'},
      pods: {'web-2-2': {ip: '10.244.1.3', ip6: 'fd00:10:244:1::7'}},
    })
    expect(real.nodes.map((n) => [n.v6?.podCIDR, n.v6?.podGateway, n.v6?.vxlan?.ip, n.v6?.underlayIp])).toEqual([
      ['fd00:10:244::/64', 'fd00:10:244::1', 'fd00:10:244::', 'fd00:10:100::2'],
      ['fd00:10:244:1::/64', 'fd00:10:244:1::1', 'fd00:10:244:1::', 'fd00:10:100::3'],
    ])
    expect(real.nodes[0]?.routes.filter((r) => r.family === 6).map((r) => `${r.dst} via ${r.via} dev ${r.dev}`)).toEqual(['default via fd00:10:100::1 dev eth0', 'fd00:10:244:1::/64 via fd00:10:244:1:: dev flannel-v6.1'])
    expect(real.nodes[0]?.fdb.filter((f) => f.dev === 'flannel-v6.1').map((f) => `${f.mac} ${f.dst}`)).toEqual(['aa:a6:f3:c5:f2:c0 fd00:10:100::3'])
    expect(real.pods.map((p) => p.ip6)).toEqual(['fd00:10:244::2', 'fd00:10:244::3', 'fd00:10:244:1::2', 'fd00:10:244:1::7'])
    expect(real.services.find((s) => s.name === 'web')?.endpoints.map((e) => e.ip6)).toEqual(['fd00:10:244::2', 'fd00:10:244::3', 'fd00:10:244:1::2', 'fd00:10:244:1::7'])
    expect(real.services.find((s) => s.name === 'web')?.clusterIP6).toBe('fd00:10:96::80')
  })
})

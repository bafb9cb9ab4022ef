import {describe, expect, it} from 'vitest'
import {kubeProxyIptablesRules} from '../../../src/lib/lab/kube-proxy-rules.js'
import {calicoIpamBlocks, kubeProxyModelFor, labObjects} from '../../../src/lib/lab/objects.js'
import {planLab} from '../../../src/lib/lab/plan.js'

describe('labObjects', () => {
  const plan = planLab({name: 'knet', nodes: 2, podsPerNode: 2, topology: 'vxlan'})
  const objects = labObjects(plan)
  // Tests read nested object fields freely; the shapes are asserted, not trusted.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Loose = any
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind) as Loose[]

  it('has every Node, Pod, Service, EndpointSlice, the kube-proxy ConfigMap and the ServiceCIDR', () => {
    expect(objects.map((o) => o.kind).reduce<Record<string, number>>((m, k) => ({...m, [k]: (m[k] ?? 0) + 1}), {})).toEqual({Namespace: 3, Node: 2, Pod: 4, Service: 4, EndpointSlice: 4, ConfigMap: 2, ServiceCIDR: 1, DaemonSet: 2})
  })

  it("the kubernetes ServiceCIDR holds the plan's Service range, as kube-apiserver writes it", () => {
    expect(byKind('ServiceCIDR')).toEqual([
      expect.objectContaining({apiVersion: 'networking.k8s.io/v1', metadata: expect.objectContaining({name: 'kubernetes'}), spec: {cidrs: [plan.serviceCIDR]}}),
    ])
    expect(plan.serviceCIDR).toBe('10.96.0.0/16')
  })

  it('Nodes carry podCIDR(s), InternalIP and flannel’s VTEP annotation', () => {
    const n = byKind('Node')[1]!
    expect(n.metadata.name).toBe('node-2')
    expect(n.spec).toEqual({podCIDR: '10.244.2.0/24', podCIDRs: ['10.244.2.0/24']})
    expect(n.status.addresses).toContainEqual({type: 'InternalIP', address: '10.100.0.3'})
    expect(JSON.parse(n.metadata.annotations['flannel.alpha.coreos.com/backend-data'])).toEqual({VNI: 1, VtepMAC: '0e:6b:6e:00:00:02'})
  })

  it('Pods carry IPs, node and named container ports', () => {
    const p = byKind('Pod')[2]!
    expect(p.metadata).toMatchObject({name: 'web-2-1', namespace: 'default', labels: {app: 'web', tier: 'dns'}})
    expect(p.spec.nodeName).toBe('node-2')
    expect(p.spec.containers[0].ports).toEqual([
      {name: 'http', containerPort: 8080, protocol: 'TCP'},
      {name: 'dns', containerPort: 5353, protocol: 'UDP'},
    ])
    expect(p.status).toMatchObject({podIP: '10.244.2.2', podIPs: [{ip: '10.244.2.2'}], hostIP: '10.100.0.3'})
  })

  it('EndpointSlices have conditions, nodeName and targetRef; the empty Service has none', () => {
    const slices = byKind('EndpointSlice')
    const dns = slices.find((s) => s.metadata.labels['kubernetes.io/service-name'] === 'dns')!
    expect(dns.apiVersion).toBe('discovery.k8s.io/v1')
    expect(dns.ports).toEqual([{name: 'dns', port: 5353, protocol: 'UDP'}])
    expect(dns.endpoints.map((e: Loose) => [e.addresses[0], e.nodeName, e.targetRef.name, e.conditions])).toEqual([
      ['10.244.1.2', 'node-1', 'web-1-1', {ready: true, serving: true, terminating: false}],
      ['10.244.2.2', 'node-2', 'web-2-1', {ready: true, serving: true, terminating: false}],
    ])
    expect(slices.find((s) => s.metadata.labels['kubernetes.io/service-name'] === 'empty')!.endpoints).toEqual([])
    const np = byKind('Service').find((s) => s.metadata.name === 'web-np')!
    expect(np.spec).toMatchObject({type: 'NodePort', clusterIP: '10.96.0.81', ports: [{name: 'http', port: 80, protocol: 'TCP', targetPort: 'http', nodePort: 30080}]})
  })

  it('the kube-proxy ConfigMap says iptables mode and the cluster CIDR', () => {
    const cm = byKind('ConfigMap').find((c) => c.metadata.name === 'kube-proxy')!
    expect(cm.metadata).toMatchObject({name: 'kube-proxy', namespace: 'kube-system'})
    expect(cm.data['config.conf']).toContain('mode: iptables')
    expect(cm.data['config.conf']).toContain('clusterCIDR: 10.244.0.0/16')
  })

  it('flannel’s DaemonSet and net-conf name the backend', () => {
    expect(byKind('DaemonSet').map((d) => `${d.metadata.namespace}/${d.metadata.name}`)).toEqual(['kube-system/kube-proxy', 'kube-flannel/kube-flannel-ds'])
    const cfg = byKind('ConfigMap').find((c) => c.metadata.name === 'kube-flannel-cfg')!
    expect(JSON.parse(cfg.data['net-conf.json'])).toEqual({Network: '10.244.0.0/16', Backend: {Type: 'vxlan', VNI: 1, Port: 8472}})
  })

  it('is deterministic (UIDs included)', () => {
    expect(labObjects(planLab({name: 'knet', nodes: 2, podsPerNode: 2, topology: 'vxlan'}))).toEqual(objects)
  })

  it('feeds the kube-proxy rule generator: DNAT per endpoint, REJECT for the empty Service, the NodePort', () => {
    const rules = kubeProxyIptablesRules(kubeProxyModelFor(plan, plan.nodes[0]!))
    expect(rules).toContain('-j DNAT --to-destination 10.244.2.3:8080')
    expect(rules).toContain('-d 10.96.0.99/32 -p tcp -m comment --comment "default/empty:http has no endpoints"')
    expect(rules).toMatch(/-A KUBE-NODEPORTS -p tcp .* --dport 30080 -j KUBE-EXT-/)
  })
})

describe('calicoIpamBlocks', () => {
  it("calico-vxlan: one IPAMBlock per node, as Calico IPAM writes it — host affinity, the tunnel address and the pods allocated, the rest unallocated", () => {
    const plan = planLab({name: 'knet', nodes: 2, podsPerNode: 2, topology: 'calico-vxlan'})
    const blocks = calicoIpamBlocks(plan) as {apiVersion: string; kind: string; metadata: {name: string}; spec: {cidr: string; affinity: string; allocations: (number | null)[]; unallocated: number[]; attributes: {handle_id: string; secondary: Record<string, string>}[]}}[]
    expect(blocks.map((b) => [b.apiVersion, b.kind, b.metadata.name, b.spec.cidr, b.spec.affinity, b.spec.allocations.slice(0, 4), b.spec.allocations.length, b.spec.unallocated.length])).toEqual([
      ['crd.projectcalico.org/v1', 'IPAMBlock', '10-244-101-64-26', '10.244.101.64/26', 'host:node-1', [0, 1, 2, null], 64, 61],
      ['crd.projectcalico.org/v1', 'IPAMBlock', '10-244-102-64-26', '10.244.102.64/26', 'host:node-2', [0, 1, 2, null], 64, 61],
    ])
    expect(blocks[1]?.spec.attributes.map((a) => [a.handle_id.replace(/[0-9a-f]{32}$/, 'ID'), a.secondary.type ?? a.secondary.pod])).toEqual([
      ['vxlan-tunnel-addr-node-2', 'vxlanTunnelAddress'],
      ['k8s-pod-network.ID', 'web-2-1'],
      ['k8s-pod-network.ID', 'web-2-2'],
    ])
    expect(labObjects(plan).filter((o) => o.kind === 'IPAMBlock')).toEqual(blocks)
    expect(labObjects(planLab({name: 'knet', nodes: 2, podsPerNode: 2, topology: 'vxlan'})).filter((o) => o.kind === 'IPAMBlock')).toEqual([])
  })
})

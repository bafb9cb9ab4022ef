import {describe, expect, it} from 'vitest'
import {isLabNamespace, planLab, planNamespaces, planNodeMap, validateLabName} from '../../../src/lib/lab/plan.js'
import {KnetError} from '../../../src/lib/report/errors.js'

describe('planLab', () => {
  const hostgw = planLab({name: 'knet', nodes: 2, podsPerNode: 2, topology: 'host-gw'})
  const vxlan = planLab({name: 't1', nodes: 3, podsPerNode: 2, topology: 'vxlan'})

  it('lays out the underlay, nodes and pod CIDRs', () => {
    expect(hostgw.router).toEqual({netns: 'knetlab-knet-rt', bridge: 'br0', ip: '10.100.0.1', prefix: 24, mac: '0a:58:0a:64:00:01', routes: []})
    expect(hostgw.nodes.map((n) => [n.name, n.netns, n.underlayIp, n.podCIDR, n.bridge?.ip, n.routerPort])).toEqual([
      ['node-1', 'knetlab-knet-n1', '10.100.0.2', '10.244.1.0/24', '10.244.1.1', 'n1'],
      ['node-2', 'knetlab-knet-n2', '10.100.0.3', '10.244.2.0/24', '10.244.2.1', 'n2'],
    ])
    expect(hostgw.nodes[0]?.bridge).toEqual({name: 'cbr0', ip: '10.244.1.1', prefix: 24, mac: '0a:58:0a:f4:01:01', mtu: 1500})
  })

  it('places pods with IPs, MACs, veths and ports', () => {
    expect(hostgw.pods.map((p) => [p.name, p.node, p.netns, p.ip, p.mac, p.hostVeth, p.gateway])).toEqual([
      ['web-1-1', 'node-1', 'knetlab-knet-n1-p1', '10.244.1.2', '0a:58:0a:f4:01:02', 'veth1', '10.244.1.1'],
      ['web-1-2', 'node-1', 'knetlab-knet-n1-p2', '10.244.1.3', '0a:58:0a:f4:01:03', 'veth2', '10.244.1.1'],
      ['web-2-1', 'node-2', 'knetlab-knet-n2-p1', '10.244.2.2', '0a:58:0a:f4:02:02', 'veth1', '10.244.2.1'],
      ['web-2-2', 'node-2', 'knetlab-knet-n2-p2', '10.244.2.3', '0a:58:0a:f4:02:03', 'veth2', '10.244.2.1'],
    ])
    expect(hostgw.pods[0]?.ports).toEqual([
      {name: 'http', port: 8080, protocol: 'TCP'},
      {name: 'dns', port: 5353, protocol: 'UDP'},
    ])
  })

  it('host-gw: each node routes the other pod CIDRs via that node’s underlay IP', () => {
    expect(hostgw.nodes[0]?.routes).toEqual([
      {id: 'node-1/default', owner: 'node-1', dst: 'default', via: '10.100.0.1', dev: 'eth0', purpose: 'default'},
      {id: 'node-1/pod-cidr/node-2', owner: 'node-1', dst: '10.244.2.0/24', via: '10.100.0.3', dev: 'eth0', purpose: 'pod-cidr', toNode: 'node-2'},
    ])
    expect(hostgw.nodes[0]?.vxlan).toBeUndefined()
    expect(hostgw.nodes[0]?.fdb).toEqual([])
  })

  it('vxlan: flannel.1 with FDB, permanent neighbours and onlink routes per remote node', () => {
    const n2 = vxlan.nodes[1]
    expect(n2?.vxlan).toEqual({device: 'flannel.1', vni: 1, port: 8472, mac: '0e:6b:6e:00:00:02', ip: '10.244.2.0', local: '10.100.0.3', mtu: 1450})
    expect(n2?.fdb).toEqual([
      {mac: '0e:6b:6e:00:00:01', dev: 'flannel.1', dst: '10.100.0.2', toNode: 'node-1'},
      {mac: '0e:6b:6e:00:00:03', dev: 'flannel.1', dst: '10.100.0.4', toNode: 'node-3'},
    ])
    expect(n2?.neighbours).toEqual([
      {ip: '10.244.1.0', mac: '0e:6b:6e:00:00:01', dev: 'flannel.1', toNode: 'node-1'},
      {ip: '10.244.3.0', mac: '0e:6b:6e:00:00:03', dev: 'flannel.1', toNode: 'node-3'},
    ])
    expect(n2?.routes.filter((r) => r.purpose === 'pod-cidr')).toEqual([
      {id: 'node-2/pod-cidr/node-1', owner: 'node-2', dst: '10.244.1.0/24', via: '10.244.1.0', dev: 'flannel.1', onlink: true, purpose: 'pod-cidr', toNode: 'node-1'},
      {id: 'node-2/pod-cidr/node-3', owner: 'node-2', dst: '10.244.3.0/24', via: '10.244.3.0', dev: 'flannel.1', onlink: true, purpose: 'pod-cidr', toNode: 'node-3'},
    ])
    expect(vxlan.pods.every((p) => p.mtu === 1450)).toBe(true)
    expect(n2?.bridge?.mtu).toBe(1450)
  })

  it('Services: endpoints follow selectors, one has none', () => {
    expect(hostgw.services.map((s) => [s.name, s.type, s.clusterIP, s.ports.map((p) => `${p.port}/${p.protocol}>${p.targetPort}${p.nodePort ? `:${p.nodePort}` : ''}`).join(), s.endpoints.map((e) => e.pod).join()])).toEqual([
      ['web', 'ClusterIP', '10.96.0.80', '80/TCP>8080', 'web-1-1,web-1-2,web-2-1,web-2-2'],
      ['dns', 'ClusterIP', '10.96.0.53', '53/UDP>5353', 'web-1-1,web-2-1'],
      ['web-np', 'NodePort', '10.96.0.81', '80/TCP>8080:30080', 'web-1-1,web-1-2,web-2-1,web-2-2'],
      ['empty', 'ClusterIP', '10.96.0.99', '80/TCP>8080', ''],
    ])
  })

  it('is deterministic and lists namespaces in build order', () => {
    expect(planLab({name: 'knet', nodes: 2, podsPerNode: 2, topology: 'host-gw'})).toEqual(hostgw)
    expect(planNamespaces(hostgw)).toEqual(['knetlab-knet-rt', 'knetlab-knet-n1', 'knetlab-knet-n1-p1', 'knetlab-knet-n1-p2', 'knetlab-knet-n2', 'knetlab-knet-n2-p1', 'knetlab-knet-n2-p2'])
    expect(planNodeMap(vxlan)).toEqual({'node-1': 'knetlab-t1-n1', 'node-2': 'knetlab-t1-n2', 'node-3': 'knetlab-t1-n3'})
  })

  it('keeps every interface name within 15 characters at the largest size', () => {
    const big = planLab({name: 'abcdefghijkl', nodes: 8, podsPerNode: 16, topology: 'vxlan'})
    const names = [big.router.bridge, ...big.nodes.flatMap((n) => [n.routerPort, n.bridge?.name ?? "", n.vxlan?.device ?? '']), ...big.pods.map((p) => p.hostVeth), 'eth0']
    for (const n of names) expect(n.length).toBeLessThanOrEqual(15)
    expect(new Set(big.pods.map((p) => p.ip)).size).toBe(128)
  })

  it('rejects bad parameters as bad input', () => {
    for (const params of [
      {name: 'Bad_Name', nodes: 2, podsPerNode: 2},
      {name: 'x', nodes: 1, podsPerNode: 2},
      {name: 'x', nodes: 9, podsPerNode: 2},
      {name: 'x', nodes: 2, podsPerNode: 0},
      {name: '-x', nodes: 2, podsPerNode: 1},
      {name: 'waytoolongname1', nodes: 2, podsPerNode: 1},
    ]) {
      expect(() => planLab({...params, topology: 'host-gw'})).toThrow(KnetError)
    }
    expect(validateLabName('a-1')).toBe('a-1')
  })
})

describe('isLabNamespace', () => {
  it('claims exactly the lab’s own namespace shapes', () => {
    expect(isLabNamespace('a', 'knetlab-a-rt')).toBe(true)
    expect(isLabNamespace('a', 'knetlab-a-n3')).toBe(true)
    expect(isLabNamespace('a', 'knetlab-a-n3-p12')).toBe(true)
    // Another lab whose name starts the same, and things that merely share the prefix.
    expect(isLabNamespace('a', 'knetlab-a-b-n1')).toBe(false)
    expect(isLabNamespace('a', 'knetlab-a-n1-n1')).toBe(false)
    expect(isLabNamespace('a', 'knetlab-a-n1-p1-rt')).toBe(false)
    expect(isLabNamespace('a', 'knetlab-a-')).toBe(false)
    expect(isLabNamespace('a', 'knet-t-a-n1')).toBe(false)
    expect(isLabNamespace('a-n1', 'knetlab-a-n1-p1')).toBe(false)
  })
})

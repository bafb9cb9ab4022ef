import {describe, expect, it} from 'vitest'
import {parseCniIpam, parseCniResults} from '../../../src/lib/parse/cni-records.js'

describe('CNI records on a node', () => {
  it('host-local IPAM: container id and interface per reserved IPv4 address (\\r\\n line ends too); bookkeeping files are no problem', () => {
    const text = [
      '/var/lib/cni/networks/kindnet/10.244.1.2:6f3c0a\r',
      '/var/lib/cni/networks/kindnet/10.244.1.2:eth0',
      '/var/lib/cni/networks/kindnet/last_reserved_ip.0:10.244.1.2',
      '/var/lib/cni/networks/kindnet/fd00:10:244::2:6f3c0a',
      '/var/lib/cni/networks/cbr0/10.244.1.3:77aa',
      'garbage',
      '',
    ].join('\n')
    expect(parseCniIpam(text)).toEqual({
      value: [
        {path: '/var/lib/cni/networks/kindnet/10.244.1.2', network: 'kindnet', ip: '10.244.1.2', containerId: '6f3c0a', ifname: 'eth0'},
        {path: '/var/lib/cni/networks/cbr0/10.244.1.3', network: 'cbr0', ip: '10.244.1.3', containerId: '77aa'},
      ],
      problems: [{line: 6, message: 'cni ipam: expected "/var/lib/cni/networks/NET/IP:value"', text: 'garbage'}],
    })
  })

  it('cached results: cniCacheV1 and bare results; the interfaces without a sandbox are the host side', () => {
    const v1 = {kind: 'cniCacheV1', containerId: 'abc', ifName: 'eth0', networkName: 'kindnet', result: {interfaces: [{name: 'veth3f2a1b7c', mac: 'aa:bb:cc:00:00:01'}, {name: 'eth0', sandbox: '/var/run/netns/cni-1'}], ips: [{address: '10.244.1.2/24', gateway: '10.244.1.1', interface: 1}]}}
    const bare = {cniVersion: '0.4.0', interfaces: [{name: 'cali12345'}], ips: [{address: '192.168.7.4/32'}]}
    const text = `/var/lib/cni/results/kindnet-abc-eth0:${JSON.stringify(v1)}\n/var/lib/cni/results/k8s-pod-network-def-eth0:${JSON.stringify(bare)}\n/var/lib/cni/results/broken:{not json\n`
    expect(parseCniResults(text)).toEqual({
      value: [
        {path: '/var/lib/cni/results/kindnet-abc-eth0', network: 'kindnet', containerId: 'abc', ifName: 'eth0', hostInterfaces: ['veth3f2a1b7c'], ips: ['10.244.1.2']},
        {path: '/var/lib/cni/results/k8s-pod-network-def-eth0', hostInterfaces: ['cali12345'], ips: ['192.168.7.4']},
      ],
      problems: [{line: 3, message: 'cni results: expected "/var/lib/cni/results/FILE:{json}"', text: '/var/lib/cni/results/broken:{not json'}],
    })
  })

  it('never throws on odd JSON shapes', () => {
    for (const body of ['null', '[]', '{"result":null}', '{"interfaces":7,"ips":[null,{"address":5}]}', '{"result":{"interfaces":[null,{"name":3}]}}']) {
      expect(() => parseCniResults(`/var/lib/cni/results/x:${body}`)).not.toThrow()
    }
  })
})

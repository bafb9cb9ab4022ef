import {describe, expect, it} from 'vitest'
import {parseIpsetSave} from '../../../src/lib/parse/ipset.js'
import {ipvsFixture} from '../../fixtures/ipvs/snapshot.js'
import {fuzzParser} from '../../helpers/fuzz.js'

// kube-proxy's IPVS-mode sets, loaded with ipset restore and read back with ipset save (test/fixtures/ipvs/capture.ts).
const fixture = ipvsFixture('ipset-save.node-1.txt')

describe('parseIpsetSave', () => {
  it("reads kube-proxy's sets with their types and members", () => {
    const {value, problems} = parseIpsetSave(fixture)
    expect(problems).toEqual([])
    const byName = new Map(value.sets.map((s) => [s.name, s]))
    // The 17 sets of kube-proxy's ipsetInfo (pkg/proxy/ipvs/proxier.go).
    expect(value.sets).toHaveLength(17)
    expect(byName.get('KUBE-CLUSTER-IP')).toMatchObject({type: 'hash:ip,port', dims: ['ip', 'port'], family: 'inet', range: null})
    expect(byName.get('KUBE-CLUSTER-IP')?.members.map((m) => m.parts)).toContainEqual([{kind: 'ip', text: '10.96.0.53'}, {kind: 'port', protocol: 'udp', port: 53}])
    expect(byName.get('KUBE-LOOP-BACK')?.members[0]).toEqual({
      text: '10.244.1.2,tcp:8080,10.244.1.2', line: 18,
      parts: [{kind: 'ip', text: '10.244.1.2'}, {kind: 'port', protocol: 'tcp', port: 8080}, {kind: 'ip', text: '10.244.1.2'}],
    })
    expect(byName.get('KUBE-NODE-PORT-TCP')).toMatchObject({type: 'bitmap:port', range: {from: 0, to: 65535}, members: [{text: '30080'}, {text: '30082'}]})
    expect(byName.get('KUBE-LOAD-BALANCER-SOURCE-CIDR')).toMatchObject({type: 'hash:ip,port,net', dims: ['ip', 'port', 'net'], members: []})
    expect(byName.get('KUBE-IPVS-IPS')?.members.map((m) => m.text)).toEqual(['10.96.0.82', '10.96.0.81', '10.96.0.53', '10.96.0.99', '10.96.0.80'])
  })

  it('reads hash:net and hash:ip,port,net members as CIDRs, ports without a protocol as tcp', () => {
    const {value, problems} = parseIpsetSave([
      'create allow hash:net family inet hashsize 1024 maxelem 65536',
      'add allow 10.0.0.0/8',
      'add allow 192.168.1.7',
      'create src hash:ip,port,net family inet6 hashsize 1024 maxelem 65536',
      'add src fd00::10,udp:53,fd00:1::/64',
      'add src 203.0.113.10,443,198.51.100.0/24',
    ].join('\n'))
    expect(problems).toEqual([])
    expect(value.sets[0]?.members.map((m) => m.parts)).toEqual([[{kind: 'net', text: '10.0.0.0/8'}], [{kind: 'net', text: '192.168.1.7'}]])
    expect(value.sets[1]?.family).toBe('inet6')
    expect(value.sets[1]?.members.map((m) => m.parts)).toEqual([
      [{kind: 'ip', text: 'fd00::10'}, {kind: 'port', protocol: 'udp', port: 53}, {kind: 'net', text: 'fd00:1::/64'}],
      [{kind: 'ip', text: '203.0.113.10'}, {kind: 'port', protocol: 'tcp', port: 443}, {kind: 'net', text: '198.51.100.0/24'}],
    ])
  })

  it('reports each unreadable line and keeps the rest', () => {
    const {value, problems} = parseIpsetSave([
      'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536',
      'add KUBE-CLUSTER-IP 10.96.0.10,udp:53',
      'add KUBE-CLUSTER-IP 10.96.0.10',
      'add KUBE-CLUSTER-IP 10.96.0.10,tcp:99999',
      'add KUBE-NOPE 10.96.0.1,tcp:443',
      'create KUBE-CLUSTER-IP hash:ip,port',
      'create',
      'flush KUBE-CLUSTER-IP',
      'add KUBE-CLUSTER-IP "unterminated',
      'create ports bitmap:port range 0-65535',
      'add ports tcp:80',
      'add ports eighty',
    ].join('\n'))
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [3, 'KUBE-CLUSTER-IP (hash:ip,port): "10.96.0.10" has 1 part(s), hash:ip,port has 2'],
      [4, 'KUBE-CLUSTER-IP (hash:ip,port): "tcp:99999" is not a protocol:port'],
      [5, 'add to set "KUBE-NOPE" that was not created'],
      [6, 'set KUBE-CLUSTER-IP is created twice'],
      [7, 'create without a name and type'],
      [8, 'unknown command "flush"'],
      [9, expect.any(String)],
      [12, 'ports (bitmap:port): "eighty" is not a port'],
    ])
    expect(value.sets.map((s) => [s.name, s.members.map((m) => m.text)])).toEqual([['KUBE-CLUSTER-IP', ['10.96.0.10,udp:53']], ['ports', ['tcp:80']]])
  })

  it('never throws on mutated input', async () => {
    await fuzzParser([fixture], parseIpsetSave)
  })
})

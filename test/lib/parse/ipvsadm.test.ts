import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {parseIpvsadmSave} from '../../../src/lib/parse/ipvsadm.js'
import {fuzzParser} from '../../helpers/fuzz.js'

// Hand-written (no IPVS in the capture kernel): see test/fixtures/netfilter/README.md.
const fixture = readFileSync(new URL('../../fixtures/netfilter/ipvsadm-save.handwritten.txt', import.meta.url), 'utf8')

describe('parseIpvsadmSave', () => {
  it('reads virtual services and their real servers', () => {
    const {value, problems} = parseIpvsadmSave(fixture)
    expect(problems).toEqual([])
    expect(value.services.map((s) => [s.protocol, s.address, s.port, s.fwmark, s.scheduler, s.persistent, s.realServers.length])).toEqual([
      ['tcp', '10.96.0.1', 443, null, 'rr', null, 2],
      ['udp', '10.96.0.10', 53, null, 'rr', null, 2],
      ['tcp', '10.96.0.10', 53, null, 'rr', null, 2],
      ['tcp', '10.96.12.34', 80, null, 'rr', 10800, 1],
      ['tcp', '192.168.1.10', 30080, null, 'rr', null, 2],
      ['tcp', '10.96.0.20', 80, null, 'rr', null, 0],
      ['tcp', 'fd00:10:96::1', 443, null, 'rr', null, 1],
      ['fwmark', null, null, 100, 'wlc', 300, 2],
      ['tcp', '10.96.50.1', 8443, null, 'mh', null, 1],
    ])
    expect(value.services[0]?.realServers).toEqual([
      {address: '172.18.0.2', port: 6443, forwarding: 'masq', weight: 1, upperThreshold: null, lowerThreshold: null, line: 2},
      {address: '172.18.0.3', port: 6443, forwarding: 'masq', weight: 1, upperThreshold: null, lowerThreshold: null, line: 3},
    ])
    expect(value.services[4]?.realServers[1]).toMatchObject({address: '10.244.2.7', weight: 0})
    expect(value.services[6]?.realServers[0]).toMatchObject({address: 'fd00:10:244:1::5', port: 6443})
    expect(value.services[7]).toMatchObject({netmask: '255.255.255.255', line: 18})
    expect(value.services[7]?.realServers.map((r) => [r.address, r.port, r.forwarding, r.weight, r.upperThreshold, r.lowerThreshold])).toEqual([
      ['192.168.2.20', 0, 'route', 3, 100, 10],
      ['192.168.2.21', 0, 'tunnel', 2, null, null],
    ])
    expect(value.services[8]?.flags).toEqual(['mh-port', 'mh-fallback'])
  })

  it('reports unreadable lines and keeps the rest', () => {
    const {value, problems} = parseIpvsadmSave([
      '-A -t 10.96.0.1:443 -s rr',
      '-a -t 10.96.0.9:443 -r 10.0.0.1:80 -m -w 1',
      '-a -t 10.96.0.1:443 -r 10.0.0.1:80 -m -w heavy',
      '-A -t 10.96.0.1 -s rr',
      '-X',
      '-A -s rr',
      '-a -t 10.96.0.1:443 -r 10.0.0.2:80 -m -w 1 --bogus',
      '-a -t 10.96.0.1:443 -r 10.0.0.3:80 -m',
    ].join('\n'))
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [2, 'real server for a virtual service that was not declared'],
      [3, 'bad -w value "heavy"'],
      [4, 'bad service address "10.96.0.1"'],
      [5, 'unknown command "-X"'],
      [6, 'no -t/-u/-f service given'],
      [7, 'unknown option "--bogus"'],
    ])
    expect(value.services[0]?.realServers.map((r) => [r.address, r.weight])).toEqual([['10.0.0.3', 1]])
  })

  it('never throws on mutated input', async () => {
    await fuzzParser([fixture], parseIpvsadmSave)
  })
})

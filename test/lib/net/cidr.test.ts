import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {cidrContains, cidrContainsCidr, cidrOverlaps, cidrSize, defaultCidr, formatIp, ipFamily, normaliseCidr, parseCidr, parseIp, unmapIp} from '../../../src/lib/net/cidr.js'

describe('parseIp', () => {
  it('canonicalises IPv4, IPv6 and IPv4-mapped addresses', () => {
    expect(parseIp('10.0.0.1')).toEqual({family: 4, value: 0x0a000001n, text: '10.0.0.1'})
    expect(parseIp('FD00:0:0::0001')).toEqual({family: 6, value: 0xfd000000000000000000000000000001n, text: 'fd00::1'})
    expect(parseIp('::ffff:10.0.0.1')?.text).toBe('::ffff:10.0.0.1')
    expect(parseIp('::ffff:a00:1')?.text).toBe('::ffff:10.0.0.1')
    expect(unmapIp(parseIp('::ffff:10.0.0.1') ?? fail())).toEqual({family: 4, value: 0x0a000001n, text: '10.0.0.1'})
    expect(parseIp('::')?.text).toBe('::')
  })

  it('rejects what is not an address', () => {
    for (const s of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.4/24', 'fe80::1%eth0', ':::', '1::2::3', 'g::1', 'default', ' ', '1.2.3.-1']) {
      expect(parseIp(s), s).toBeUndefined()
    }
    expect(parseIp(42 as unknown as string)).toBeUndefined()
  })
})

function fail(): never {
  throw new Error('unexpected undefined')
}

describe('parseCidr', () => {
  it('normalises host bits but keeps the address', () => {
    expect(parseCidr('10.0.0.5/24')).toEqual({family: 4, text: '10.0.0.0/24', address: '10.0.0.5', prefixLength: 24, first: 0x0a000000n, last: 0x0a0000ffn})
    expect(parseCidr('10.0.0.1')?.text).toBe('10.0.0.1/32')
    expect(parseCidr('2001:db8::1/32')?.text).toBe('2001:db8::/32')
    expect(parseCidr('fd00::1')?.text).toBe('fd00::1/128')
    expect(parseCidr('0.0.0.0/0')).toEqual(defaultCidr(4))
    expect(parseCidr('::/0')).toEqual(defaultCidr(6))
    expect(normaliseCidr('192.168.1.77/16')).toBe('192.168.0.0/16')
    expect(cidrSize(parseCidr('10.0.0.0/30') ?? fail())).toBe(4n)
    expect(ipFamily('fd00::/8')).toBe(6)
  })

  it('rejects bad prefixes', () => {
    for (const s of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/2a', '::/129', '/24', '10.0.0.0/24/1', '10.0.0.0/0024']) expect(parseCidr(s), s).toBeUndefined()
  })

  it('round-trips: text of a parsed prefix parses to itself (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(fc.ipV4(), fc.integer({min: 0, max: 32})), fc.tuple(fc.ipV6(), fc.integer({min: 0, max: 128}))), ([ip, len]) => {
        const c = parseCidr(`${ip}/${len}`)
        expect(c).toBeDefined()
        const again = parseCidr(c?.text ?? '')
        expect(again?.text).toBe(c?.text)
        expect(again?.first).toBe(c?.first)
        expect(cidrContains(c ?? fail(), c?.address ?? '')).toBe(true)
      }),
    )
  })
})

describe('containment and overlap', () => {
  it('contains, overlaps, nests; families never mix', () => {
    expect(cidrContains('10.244.0.0/16', '10.244.255.255')).toBe(true)
    expect(cidrContains('10.244.0.0/16', '10.245.0.0')).toBe(false)
    expect(cidrContains('10.0.0.0/8', '::ffff:10.0.0.1')).toBe(false)
    expect(cidrContains('::ffff:0:0/96', '::ffff:10.0.0.1')).toBe(true)
    expect(cidrOverlaps('10.244.0.0/16', '10.244.3.0/24')).toBe(true)
    expect(cidrOverlaps('10.244.0.0/24', '10.244.1.0/24')).toBe(false)
    expect(cidrOverlaps('0.0.0.0/0', '::/0')).toBe(false)
    expect(cidrContainsCidr('10.244.0.0/16', '10.244.3.0/24')).toBe(true)
    expect(cidrContainsCidr('10.244.3.0/24', '10.244.0.0/16')).toBe(false)
    expect(cidrContainsCidr('fd00::/8', 'fd00:244:1::/64')).toBe(true)
    expect(cidrContains('garbage', '10.0.0.1')).toBe(false)
  })

  it('formatIp inverts parseIp (property)', () => {
    fc.assert(fc.property(fc.bigInt({min: 0n, max: (1n << 128n) - 1n}), (v) => {
      expect(parseIp(formatIp(6, v))?.value).toBe(v)
    }))
    fc.assert(fc.property(fc.bigInt({min: 0n, max: (1n << 32n) - 1n}), (v) => {
      expect(parseIp(formatIp(4, v))?.value).toBe(v)
    }))
  })
})

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {makeCidr, cidrOverlaps, type Family} from '../../../src/lib/net/cidr.js'
import {findOverlaps, prefixItems, type PrefixItem} from '../../../src/lib/net/interval-index.js'

const key = ([a, b]: [PrefixItem<number>, PrefixItem<number>]): string => {
  const [x, y] = a.payload < b.payload ? [a.payload, b.payload] : [b.payload, a.payload]
  return `${x}-${y}`
}

function bruteForce(items: PrefixItem<number>[]): string[] {
  const out: string[] = []
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      const a = items[i] as PrefixItem<number>
      const b = items[j] as PrefixItem<number>
      if (cidrOverlaps(a.cidr, b.cidr)) out.push(key([a, b]))
    }
  }
  return out.sort()
}

/** Random prefixes concentrated in a small space so that nesting and duplicates are common. */
const prefixArb = fc.oneof(
  fc.tuple(fc.constant(4 as Family), fc.bigInt({min: 0x0a000000n, max: 0x0a0003ffn}), fc.integer({min: 20, max: 32})),
  fc.tuple(fc.constant(6 as Family), fc.bigInt({min: 0n, max: 0xffffn}), fc.integer({min: 112, max: 128})),
)

describe('findOverlaps', () => {
  it('finds nested, equal and disjoint correctly, per family', () => {
    const {items, invalid} = prefixItems([
      {cidr: '10.244.0.0/16', payload: 'cluster'},
      {cidr: '10.244.1.0/24', payload: 'node-1'},
      {cidr: '10.244.2.0/24', payload: 'node-2'},
      {cidr: '10.244.2.0/24', payload: 'node-3'},
      {cidr: '10.96.0.0/12', payload: 'services'},
      {cidr: 'fd00::/64', payload: 'v6'},
      {cidr: 'fd00::/48', payload: 'v6-cluster'},
      {cidr: 'nope', payload: 'bad'},
    ])
    expect(invalid).toEqual([{cidr: 'nope', payload: 'bad'}])
    expect(findOverlaps(items).map(([a, b]) => `${a.payload}>${b.payload}`)).toEqual(['cluster>node-1', 'cluster>node-2', 'cluster>node-3', 'node-2>node-3', 'v6-cluster>v6'])
  })

  it('equals the O(N²) brute force on random prefix sets (property)', () => {
    fc.assert(
      fc.property(fc.array(prefixArb, {maxLength: 60}), (raw) => {
        const items = raw.map(([family, v, len], i) => ({cidr: makeCidr({family, value: v, text: ''}, len), payload: i}))
        const fast = findOverlaps(items).map(key).sort()
        expect(fast).toEqual(bruteForce(items))
      }),
      {numRuns: 500},
    )
  })

  it('finds all 20k pairs of 20k disjoint /24s under a covering /8 (speed: see bench/)', () => {
    const items = Array.from({length: 20_000}, (_, i) => ({cidr: makeCidr({family: 4, value: 0x0a000000n + BigInt(i) * 256n, text: ''}, 24), payload: i}))
    items.push({cidr: makeCidr({family: 4, value: 0x0a000000n, text: ''}, 8), payload: -1})
    const pairs = findOverlaps(items)
    expect(pairs).toHaveLength(20_000)
    expect(pairs.every(([outer]) => outer.payload === -1)).toBe(true)
  })
})

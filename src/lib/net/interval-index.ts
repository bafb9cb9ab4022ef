/**
 * Every overlapping pair among N prefixes in O(N log N + pairs). Prefixes are laminar — two of
 * them are either disjoint or one contains the other — so after sorting by (start asc, size desc)
 * the prefixes still "open" at any point form a nested chain, and a plain stack replaces the
 * interval tree a general interval set would need.
 */
import {parseCidr, type Cidr, type Family} from './cidr.js'

export interface PrefixItem<T> {
  cidr: Cidr
  payload: T
}

/** [outer, inner]: outer contains inner or they are equal; outer sorts first. */
export type OverlapPair<T> = [PrefixItem<T>, PrefixItem<T>]

export function findOverlaps<T>(items: readonly PrefixItem<T>[]): OverlapPair<T>[] {
  const out: OverlapPair<T>[] = []
  for (const family of [4, 6] as const) sweep(items, family, out)
  return out
}

function sweep<T>(items: readonly PrefixItem<T>[], family: Family, out: OverlapPair<T>[]): void {
  const sorted = items
    .map((item, i) => ({item, i}))
    .filter(({item}) => item.cidr.family === family)
    .sort((a, b) => cmp(a.item.cidr.first, b.item.cidr.first) || cmp(b.item.cidr.last, a.item.cidr.last) || a.i - b.i)
  const open: PrefixItem<T>[] = []
  for (const {item} of sorted) {
    while (open.length > 0 && (open[open.length - 1] as PrefixItem<T>).cidr.last < item.cidr.first) open.pop()
    for (const outer of open) out.push([outer, item])
    open.push(item)
  }
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Convenience for string prefixes; unparsable ones are returned separately rather than dropped silently. */
export function prefixItems<T>(entries: readonly {cidr: string; payload: T}[]): {items: PrefixItem<T>[]; invalid: {cidr: string; payload: T}[]} {
  const items: PrefixItem<T>[] = []
  const invalid: {cidr: string; payload: T}[] = []
  for (const e of entries) {
    const cidr = parseCidr(e.cidr)
    if (cidr) items.push({cidr, payload: e.payload})
    else invalid.push(e)
  }
  return {items, invalid}
}

/**
 * Structural fuzzing for the JSON parsers, on top of test/helpers/fuzz.ts's text mutations (which
 * mostly produce invalid JSON from one-line iproute2 output): keep the JSON valid but put wrong
 * types where fields are expected — numbers for strings, nulls, nested arrays, deleted keys,
 * whole entries replaced — which is what a different iproute2 version or a broken capture does.
 */
import fc from 'fast-check'
import {expect} from 'vitest'
import {breather, fuzzParser, fuzzRuns} from '../../../helpers/fuzz.js'

type Json = unknown

/** Every container slot in the tree as [container, key], so a fraction can pick one uniformly. */
function slots(v: Json, out: [Record<string, Json> | Json[], string | number][] = []): [Record<string, Json> | Json[], string | number][] {
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      out.push([v, i])
      slots(item, out)
    })
  } else if (typeof v === 'object' && v !== null) {
    for (const [k, item] of Object.entries(v)) {
      out.push([v as Record<string, Json>, k])
      slots(item, out)
    }
  }
  return out
}

const weird = fc.oneof(
  fc.jsonValue({maxDepth: 2}),
  fc.constantFrom(null, 0, -1, Number.MAX_VALUE, 2 ** 53 + 2, '', 'default', 'all', '0x', [], [[]], {}, true, '::', '10.0.0.1/33', 'zz:zz'),
)

export function jsonMutationArb(samples: string[]): fc.Arbitrary<string> {
  const frac = fc.double({min: 0, max: 1, noNaN: true, maxExcluded: true})
  const op = fc.oneof(
    fc.tuple(fc.constant('replace' as const), frac, weird),
    fc.tuple(fc.constant('delete' as const), frac, fc.constant(null)),
    fc.tuple(fc.constant('top' as const), frac, weird),
  )
  return fc.tuple(fc.constantFrom(...samples), fc.array(op, {minLength: 1, maxLength: 5})).map(([text, ops]) => {
    let tree: Json = JSON.parse(text)
    for (const [kind, f, shared] of ops) {
      // Constants are shared instances: inserting one twice could nest it in itself.
      const value = structuredClone(shared)
      if (kind === 'top') {
        tree = value
        continue
      }
      const all = slots(tree)
      const pick = all[Math.floor(f * all.length)]
      if (!pick) continue
      const [container, key] = pick
      if (kind === 'delete') {
        if (Array.isArray(container)) container.splice(key as number, 1)
        else delete container[key as string]
      } else if (Array.isArray(container)) container[key as number] = value
      else container[key as string] = value
    }
    return JSON.stringify(tree) ?? ''
  })
}

/** Text mutations (shared helper) plus structural JSON mutations, both checking the contract. */
export async function fuzzJsonParser<T>(samples: string[], parse: (text: string) => {value: T[]; problems: unknown}): Promise<void> {
  await fuzzParser(samples, parse, (result) => expect(Array.isArray(result.value)).toBe(true))
  const breathe = breather()
  await fc.assert(
    fc.asyncProperty(jsonMutationArb(samples), async (input) => {
      await breathe()
      const result = parse(input)
      expect(Array.isArray(result.value)).toBe(true)
      expect(Array.isArray(result.problems)).toBe(true)
      // Whatever was kept must survive a JSON round trip (no undefined/NaN/functions leaking out).
      expect(JSON.parse(JSON.stringify(result.value))).toEqual(result.value)
    }),
    {numRuns: fuzzRuns},
  )
}

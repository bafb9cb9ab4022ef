/**
 * Mutation fuzzing for parsers that promise never to throw. Seeded with real captured outputs, it
 * mutates them the ways broken evidence really looks (truncated captures, missing or doubled lines,
 * stray bytes, garbage) plus pure random strings, and checks the {value, problems} contract.
 * FUZZ_RUNS sets the number of runs: 5,000 in `npm test`, which CI runs twice (Node 20 and 24), each
 * time with a fresh random seed, so every parser meets 10,000 mutated inputs per CI run; 100,000 in
 * `npm run test:fuzz`. A failure prints fast-check's seed and path, which replay it. The runs are
 * awaited and yield to the event loop now and then (see breather), so callers await them.
 */
import fc from 'fast-check'
import {expect} from 'vitest'
import {breathe} from './breathe.js'

export const fuzzRuns = Number(process.env.FUZZ_RUNS ?? 5000)

type Mutation = (text: string) => string

const lines = (t: string): string[] => t.split('\n')

/** Arbitrary single mutations of a text; indices are fractions so one arbitrary fits any length. */
function mutationArb(): fc.Arbitrary<Mutation> {
  const frac = fc.double({min: 0, max: 1, noNaN: true, maxExcluded: true})
  const at = (f: number, n: number): number => Math.floor(f * n)
  const anyText = fc.oneof(
    fc.string({maxLength: 12}),
    fc.string({unit: 'binary', maxLength: 12}),
    fc.string({unit: 'grapheme', maxLength: 6}),
    fc.constantFrom('"', '\\', '!', '[', ']', '{', '}', ':', '/', '-', '--', ',', '=', '\0', '\r', '\n', '\t', ' ', '\uFFFD', '\u{1F600}', '0x', '-1', '99999999999999999999999', 'NaN', '1e309'),
  )
  return fc.oneof(
    frac.map((f): Mutation => (t) => t.slice(0, at(f, t.length + 1))),
    frac.map((f): Mutation => (t) => {
      const ls = lines(t)
      ls.splice(at(f, ls.length), 1)
      return ls.join('\n')
    }),
    frac.map((f): Mutation => (t) => {
      const ls = lines(t)
      const i = at(f, ls.length)
      ls.splice(i, 0, ls[i] ?? '')
      return ls.join('\n')
    }),
    fc.tuple(frac, frac).map(([a, b]): Mutation => (t) => {
      const ls = lines(t)
      const i = at(a, ls.length)
      const j = at(b, ls.length)
      const tmp = ls[i] as string
      ls[i] = ls[j] as string
      ls[j] = tmp
      return ls.join('\n')
    }),
    fc.tuple(frac, anyText).map(([f, s]): Mutation => (t) => {
      const i = at(f, t.length + 1)
      return t.slice(0, i) + s + t.slice(i)
    }),
    fc.tuple(frac, anyText).map(([f, s]): Mutation => (t) => {
      // Replace the whitespace-separated token around a point.
      const i = at(f, t.length + 1)
      let a = i
      let b = i
      while (a > 0 && !/\s/.test(t[a - 1] as string)) a--
      while (b < t.length && !/\s/.test(t[b] as string)) b++
      return t.slice(0, a) + s + t.slice(b)
    }),
    fc.tuple(frac, frac).map(([a, b]): Mutation => (t) => {
      // Cut a slice out of the middle (partial writes, lost chunks).
      const i = at(a, t.length + 1)
      return t.slice(0, i) + t.slice(i + at(b, Math.min(200, t.length - i + 1)))
    }),
  )
}

/** Texts to feed a parser: mutated samples (1–4 stacked mutations) or pure random strings. */
export function fuzzInputArb(samples: string[]): fc.Arbitrary<string> {
  const mutated = fc
    .tuple(fc.constantFrom(...samples), fc.array(mutationArb(), {minLength: 1, maxLength: 4}))
    .map(([s, ms]) => ms.reduce((t, m) => m(t), s))
  return fc.oneof({weight: 8, arbitrary: mutated}, {weight: 1, arbitrary: fc.string({maxLength: 300})}, {weight: 1, arbitrary: fc.string({unit: 'binary', maxLength: 300})})
}

/**
 * An await that lets the event loop turn once at least `everyMs` of work has passed since the last
 * turn. Thousands of synchronous runs hold a vitest worker for a minute on a loaded machine (two CI
 * runs on two cores), and the worker gives up on its own messages to the main process after 60 s
 * ("Timeout calling onTaskUpdate"), failing the whole run. By time, not by count: 200 runs of the
 * ipset parser on kube-proxy's sets held a worker 12 s on an idle machine (KNET_BLOCK_LOG).
 */
export function breather(everyMs = 100): () => Promise<void> {
  let last = performance.now()
  return async () => {
    if (performance.now() - last < everyMs) return
    await breathe()
    last = performance.now()
  }
}

/** Asserts a parser keeps its contract on every fuzzed input; `check` may add parser-specific invariants. */
export async function fuzzParser<T>(
  samples: string[],
  parse: (text: string) => {value: T; problems: unknown},
  check?: (result: {value: T; problems: {line: number; message: string}[]}, input: string) => void,
  runs = fuzzRuns,
): Promise<void> {
  if (samples.length === 0) throw new Error('fuzzParser needs at least one sample')
  const breathe = breather()
  await fc.assert(
    fc.asyncProperty(fuzzInputArb(samples), async (input) => {
      await breathe()
      const result = parse(input)
      expect(result).toBeTypeOf('object')
      expect(result).not.toBeNull()
      expect(result.value).toBeDefined()
      expect(Array.isArray(result.problems)).toBe(true)
      for (const p of result.problems as unknown[]) {
        const pr = p as {line: unknown; message: unknown}
        if (typeof pr.line !== 'number' || !Number.isInteger(pr.line) || pr.line < 0 || typeof pr.message !== 'string' || pr.message.length === 0) {
          throw new Error(`bad problem ${JSON.stringify(p)}`)
        }
      }
      check?.(result as {value: T; problems: {line: number; message: string}[]}, input)
    }),
    {numRuns: runs},
  )
}

/** Replace one value somewhere inside an object (the path picks a key at each level) with `replacement`. */
export function mutate(obj: unknown, path: number[], replacement: unknown): unknown {
  if (path.length === 0 || typeof obj !== 'object' || obj === null) return replacement
  const keys = Object.keys(obj)
  if (keys.length === 0) return replacement
  const key = keys[(path[0] ?? 0) % keys.length] as string
  const copy: Record<string, unknown> = Array.isArray(obj) ? ([...obj] as unknown as Record<string, unknown>) : {...(obj as Record<string, unknown>)}
  copy[key] = mutate((obj as Record<string, unknown>)[key], path.slice(1), replacement)
  return copy
}

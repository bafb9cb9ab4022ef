import fc from 'fast-check'
import {describe, expect, test} from 'vitest'
import {NotScanned, parseWithLists, type ReadMore} from '../../../src/lib/snapshot/json-lists.js'
import {breather, fuzzInputArb, fuzzRuns} from '../../helpers/fuzz.js'

const LISTS = ['cluster.objects.pods', 'cluster.objects.services']

/** A reader handing out at most `piece` bytes per call, as a file read in pieces would. */
function reader(bytes: Buffer, piece: number): ReadMore {
  let at = 0
  return (into, offset, length) => {
    const n = bytes.copy(into, offset, at, Math.min(bytes.length, at + Math.min(piece, length)))
    at += n
    return n
  }
}

/** Each document is scanned whole and through windows small enough that every value crosses an edge. */
function scan(text: string): {doc: unknown; items: [string, unknown, number][]} {
  const bytes = Buffer.from(text, 'utf8')
  const runs = [
    {source: bytes as Buffer | ReadMore, window: undefined},
    {source: reader(bytes, 3), window: 8},
    {source: reader(bytes, 1 << 20), window: 5},
    {source: reader(bytes, 7), window: 64},
  ].map(({source, window}) => {
    const items: [string, unknown, number][] = []
    const doc = parseWithLists(source, LISTS, (path, item, index) => items.push([path, item, index]), window)
    return {doc, items}
  })
  for (const run of runs.slice(1)) expect(run).toEqual(runs[0])
  return runs[0] as {doc: unknown; items: [string, unknown, number][]}
}

describe('parseWithLists', () => {
  test('strings with escaped quotes and runs of backslashes end where JSON.parse ends them, across every window edge', () => {
    const values = ['\\', '\\"', '"\\', 'a\\\\"b', '\\\\\\', '-m comment --comment "ns/svc:port" \\"x\\" \\\\', 'x'.repeat(40) + '\\"' + 'y'.repeat(9), `${'z'.repeat(70)}\\\\"${'w'.repeat(100)}\\\\\\"\\`]
    for (const v of values) {
      const doc = {nodes: [{results: [{stdout: v}, {stdout: `${v}${v}`}]}], cluster: {objects: {pods: [{metadata: {name: v}}]}}}
      const r = scan(JSON.stringify(doc))
      expect(r.doc).toEqual({...doc, cluster: {objects: {pods: []}}})
      expect(r.items).toEqual([['cluster.objects.pods', {metadata: {name: v}}, 0]])
    }
  })

  test('parses the document as JSON.parse does, with the listed arrays handed over item by item and left empty', () => {
    const whole = {
      kind: 'KnetSnapshot',
      nodes: [{name: 'n', results: [{stdout: 'a "quoted" ] } [ { line\n'}]}],
      cluster: {source: 'api', objects: {nodes: [{metadata: {name: 'n'}}], pods: [{metadata: {name: 'p1'}}, {metadata: {name: 'p]"}'}}, 7, null], services: [], other: [1]}, errors: []},
    }
    for (const text of [JSON.stringify(whole), JSON.stringify(whole, null, 2), JSON.stringify(whole, null, '\t').replaceAll('\n', '\r\n')]) {
      const {doc, items} = scan(text)
      expect(doc).toEqual({...whole, cluster: {...whole.cluster, objects: {...whole.cluster.objects, pods: [], services: []}}})
      expect(items).toEqual([
        ['cluster.objects.pods', {metadata: {name: 'p1'}}, 0],
        ['cluster.objects.pods', {metadata: {name: 'p]"}'}}, 1],
        ['cluster.objects.pods', 7, 2],
        ['cluster.objects.pods', null, 3],
      ])
    }
  })

  test('escapes, non-ASCII text and numbers read exactly as JSON.parse reads them', () => {
    const text = '{"cluster":{"objects":{"pods":[{"name":"é中\\u00e9\\"\\\\","n":-1.5e3,"t":true,"f":false,"z":null}]}},"x":"\\ud83d\\ude00"}'
    const {doc, items} = scan(text)
    expect(doc).toEqual({cluster: {objects: {pods: []}}, x: '😀'})
    expect(items[0]?.[1]).toEqual(JSON.parse(text).cluster.objects.pods[0])
  })

  test('a value larger than the window, and a window edge inside an escape', () => {
    const long = `${'x'.repeat(100_000)}\\"${'é'.repeat(1000)}`
    const text = JSON.stringify({big: long, cluster: {objects: {pods: [{name: long}, {name: 'a\\"b'}]}}})
    const {doc, items} = scan(text)
    expect(doc).toEqual({big: long, cluster: {objects: {pods: []}}})
    expect(items.map((i) => i[1])).toEqual([{name: long}, {name: 'a\\"b'}])
  })

  test('a listed path that is not an array, or a null cluster, is an ordinary value', () => {
    expect(scan('{"cluster":{"objects":{"pods":{"a":[1]}}}}').doc).toEqual({cluster: {objects: {pods: {a: [1]}}}})
    expect(scan('{"cluster":null}').doc).toEqual({cluster: null})
    expect(scan(' { } ').doc).toEqual({})
  })

  test('anything it does not expect is NotScanned, for the caller to parse the whole text', () => {
    for (const text of [
      '',
      '[]',
      '\uFEFF{}',
      '{"a":1',
      '{"a":1}x',
      '{"a":1,}',
      '{"a" 1}',
      '{"a":tru}',
      '{"a":"unterminated}',
      '{"cluster":{"objects":{"pods":[1,]}}}',
      '{"cluster":{"objects":{"pods":[1 2]}}}',
      '{"cluster":{"objects":{"pods":[{"a":1}}}}',
      '{"a":1,"a":2}',
      '{"cluster":{"objects":{"pods":[],"pods":[1]}}}',
      '{"__proto__":{"x":1}}',
    ]) {
      expect(() => scan(text), text).toThrow(NotScanned)
    }
  })

  /** What the scan must give for a text JSON.parse reads: the same document with the lists emptied, and their items in order. */
  function expected(text: string): {doc: unknown; items: [string, unknown, number][]} {
    const doc = JSON.parse(text) as unknown
    const items: [string, unknown, number][] = []
    const objects = (doc as {cluster?: {objects?: Record<string, unknown>}} | null)?.cluster?.objects
    for (const path of LISTS) {
      const key = path.split('.').at(-1) as string
      const list = typeof objects === 'object' && objects !== null && !Array.isArray(objects) ? objects[key] : undefined
      if (!Array.isArray(list)) continue
      list.forEach((item, i) => items.push([path, item, i]))
      ;(objects as Record<string, unknown>)[key] = []
    }
    return {doc, items}
  }

  test('random documents, any formatting, any window: the same as JSON.parse, or NotScanned', async () => {
    const breathe = breather()
    const doc = fc.record({
      kind: fc.constant('KnetSnapshot'),
      nodes: fc.array(fc.jsonValue({maxDepth: 3}), {maxLength: 3}),
      cluster: fc.record({objects: fc.record({pods: fc.array(fc.jsonValue({maxDepth: 4}), {maxLength: 6}), services: fc.jsonValue({maxDepth: 2}), nodes: fc.jsonValue({maxDepth: 2})})}),
    })
    const indent = fc.constantFrom(undefined, 0, 1, 2, '\t', ' \r\n ')
    await fc.assert(
      fc.asyncProperty(doc, indent, fc.integer({min: 1, max: 64}), fc.integer({min: 1, max: 9}), async (d, ind, window, piece) => {
        await breathe()
        const text = typeof ind === 'string' && ind.includes('\n') ? JSON.stringify(d, null, 1).replaceAll('\n', ind) : JSON.stringify(d, null, ind)
        const items: [string, unknown, number][] = []
        let got: unknown
        try {
          got = parseWithLists(reader(Buffer.from(text, 'utf8'), piece), LISTS, (path, item, index) => items.push([path, item, index]), window)
        } catch (error) {
          // Only what the scanner leaves to the caller on purpose (here: a __proto__ key).
          expect(error).toBeInstanceOf(NotScanned)
          expect(text).toContain('"__proto__"')
          return
        }
        expect({doc: got, items}).toEqual(expected(text))
      }),
      {numRuns: Math.min(fuzzRuns, 2000)},
    )
  })

  test('mutated documents: never a result JSON.parse would not give; NotScanned for everything it rejects', async () => {
    const breathe = breather()
    const sample = JSON.stringify({kind: 'KnetSnapshot', nodes: [{name: 'n', results: [{stdout: 'x [ } "'}]}], cluster: {objects: {pods: [{metadata: {name: 'p', labels: {a: 'b'}}}, {spec: {containers: [{ports: [1, 2.5e3, -0, true, null]}]}}], services: [{s: '\u00e9\ud83d\ude00\\'}]}}})
    await fc.assert(
      fc.asyncProperty(fuzzInputArb([sample, JSON.stringify(JSON.parse(sample), null, 2)]), fc.integer({min: 1, max: 32}), async (text, window) => {
        await breathe()
        let want: {doc: unknown; items: [string, unknown, number][]} | undefined
        try {
          want = expected(text)
        } catch {
          want = undefined
        }
        const items: [string, unknown, number][] = []
        let got: unknown
        try {
          got = parseWithLists(reader(Buffer.from(text, 'utf8'), 5), LISTS, (path, item, index) => items.push([path, item, index]), window)
        } catch (error) {
          expect(error).toBeInstanceOf(NotScanned)
          return
        }
        expect(want).toBeDefined()
        expect({doc: got, items}).toEqual(want)
      }),
      {numRuns: fuzzRuns},
    )
  })
})

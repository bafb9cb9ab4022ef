import {describe, expect, test} from 'vitest'
import {NotScanned, parseWithLists, type ReadMore} from '../../../src/lib/snapshot/json-lists.js'

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
})

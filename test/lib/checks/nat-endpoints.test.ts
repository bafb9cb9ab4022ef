/**
 * The NAT checks' ready-endpoint helpers answer as the plain definitions over the model's
 * ready-endpoint definition would: same endpoints in the same order, same "is this target ready" and
 * "is every endpoint targeted", including the indexed paths for Services with many endpoints.
 */
import fc from 'fast-check'
import {describe, expect, test} from 'vitest'
import {everyReadyV4Targeted, hasReadyEndpoint, readyEndpoints, readySlicePorts, readyTargetTest} from '../../../src/lib/checks/nat-endpoints.js'
import type {EndpointSliceModel} from '../../../src/lib/model/cluster.js'
import {buildModel, type AnalysisModel, type KubeProxyTarget, type ReadyEndpoint} from '../../../src/lib/model/model.js'
import {breather, fuzzRuns} from '../../helpers/fuzz.js'
import {snapshotOf} from './fixtures.js'

/** The plain definition: `${ns}/${service}:${portName}|${protocol}` (kube-proxy's key) → ready endpoints, slice by slice. */
function readyEndpointsByPort(model: AnalysisModel): Map<string, ReadyEndpoint[]> {
  const m = new Map<string, ReadyEndpoint[]>()
  for (const [svc, slices] of model.index.slicesByService()) {
    for (const slice of slices) {
      for (const port of slice.ports) {
        const key = `${svc}${port.name ? `:${port.name}` : ''}|${port.protocol.toLowerCase()}`
        let list = m.get(key)
        if (!list) m.set(key, (list = []))
        slice.endpoints.forEach((e, i) => {
          if (e.ready === false) return
          e.addresses.forEach((ip, j) =>
            list.push({ip, ...(port.port === undefined ? {} : {port: port.port}), protocol: port.protocol.toLowerCase(), slice: `${slice.namespace}/${slice.name}`, field: `endpoints[${i}].addresses[${j}]`}),
          )
        })
      }
    }
  }
  return m
}

const samePort = (a: number | undefined, b: number | undefined): boolean => a === undefined || b === undefined || a === b
const isReady = (ready: ReadyEndpoint[], t: KubeProxyTarget): boolean => ready.some((e) => e.ip === t.ip && samePort(e.port, t.port))

describe('NAT checks: ready endpoints by kube-proxy port', () => {
  test('ready endpoints are keyed like kube-proxy: ns/name:port|protocol', () => {
    expect(readyEndpoints(readySlicePorts(buildModel(snapshotOf())).get('default/web:http|tcp'), false)).toEqual([
      {ip: '10.244.1.5', port: 8080, protocol: 'tcp', slice: 'default/web-abcde', field: 'endpoints[0].addresses[0]'},
      {ip: '10.244.2.7', port: 8080, protocol: 'tcp', slice: 'default/web-abcde', field: 'endpoints[1].addresses[0]'},
    ])
  })

  test('lists the ready endpoints of the plain definition, key by key', () => {
    const model = buildModel(snapshotOf())
    const byKey = readySlicePorts(model)
    expect(readySlicePorts(model)).toBe(byKey)
    const index = readyEndpointsByPort(model)
    expect([...byKey.keys()].sort()).toEqual([...index.keys()].sort())
    for (const [key, list] of index) expect(readyEndpoints(byKey.get(key), false), key).toEqual(list)
  })

  test('agree with the plain definitions on random slices and targets', async () => {
    const breathe = breather()
    const ip = fc.oneof(fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', 'fd00::1'), fc.integer({min: 0, max: 40}).map((n) => `10.1.0.${n}`))
    const port = fc.option(fc.constantFrom(80, 8080), {nil: undefined})
    const endpoint = fc.record({addresses: fc.array(ip, {maxLength: 2}), ready: fc.option(fc.boolean(), {nil: undefined})})
    const slice = fc.record({endpoints: fc.array(endpoint, {maxLength: 30}), port})
    const target = fc.record({ip, port})
    await fc.assert(
      fc.asyncProperty(fc.array(slice, {maxLength: 3}), fc.array(target, {maxLength: 40}), async (slices, rawTargets) => {
        await breathe()
        const endpointSlices = slices.map(
          (s, i): EndpointSliceModel => ({
            namespace: 'ns', name: `svc-${i}`, serviceName: 'svc', addressType: 'IPv4',
            endpoints: s.endpoints.map((e) => (e.ready === undefined ? {addresses: e.addresses} : {addresses: e.addresses, ready: e.ready})),
            ports: [s.port === undefined ? {name: 'http', protocol: 'TCP'} : {name: 'http', port: s.port, protocol: 'TCP'}],
          }),
        )
        const model = {cluster: {endpointSlices}} as unknown as AnalysisModel
        const ports = readySlicePorts(model).get('ns/svc:http|tcp')
        const all = readyEndpoints(ports, false)
        const v4 = all.filter((e) => !e.ip.includes(':'))
        expect(readyEndpoints(ports, true)).toEqual(v4)
        expect(hasReadyEndpoint(ports, false)).toBe(all.length > 0)
        expect(hasReadyEndpoint(ports, true)).toBe(v4.length > 0)
        const targets = rawTargets.map((t): KubeProxyTarget => ({...t, chain: 'KUBE-SEP-X', rule: {text: '', line: 1}}))
        const test = readyTargetTest(ports, targets.length)
        for (const t of targets) expect(test(t)).toBe(isReady(all, t))
        expect(everyReadyV4Targeted(ports, targets)).toBe(v4.every((e) => targets.some((t) => t.ip === e.ip && samePort(e.port, t.port))))
      }),
      {numRuns: Math.min(fuzzRuns, 5000)},
    )
  })
})

/** Which address of a dual-stack pod or Service a trace uses: --ip-family, else the destination's first; the source follows the destination. */
import {describe, expect, it} from 'vitest'
import {objectsFromText} from '../../../src/lib/gather/cluster/objects-file.js'
import {buildClusterModel} from '../../../src/lib/model/cluster.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {resolveRequest, type TraceRequest} from '../../../src/lib/trace/path.js'
import {dualStackObjects, V4, V6} from './dual-stack-netns.js'

const cluster = buildClusterModel(objectsFromText(dualStackObjects(), 'cluster.yaml'))
const v4only = buildClusterModel(objectsFromText(dualStackObjects().replace(/, (\{ip: )?"fd00:[0-9a-f:]+"\}?/g, '').replace(', ipFamilies: [IPv4, IPv6]', ''), 'cluster.yaml'))

function resolve(src: string, dst: string, extra: Omit<TraceRequest, 'source' | 'destination'> = {}, model = cluster) {
  const r = resolveRequest(model, {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default'), ...extra})
  return [r.source.ip, r.destination.ip]
}

describe('trace endpoints in two families', () => {
  it('a Service in its first family by default, the other with --ip-family; the source pod in the same family', () => {
    expect(resolve('p1', 'svc/default/web')).toEqual([V4.pod1, V4.svc])
    expect(resolve('p1', 'svc/default/web', {family: 6})).toEqual([V6.pod1, V6.svc])
    expect(resolve('p1', 'svc/default/web', {family: 4})).toEqual([V4.pod1, V4.svc])
    expect(resolve('p1', 'p2', {family: 6, port: 8080})).toEqual([V6.pod1, V6.pod2])
    expect(resolve('node/node-1', 'p2', {family: 6, port: 8080})).toEqual([V6.node1, V6.pod2])
  })

  it('an address decides the family: a pod, Service or node IPv6 address, with or without brackets', () => {
    expect(resolve('p1', `[${V6.svc}]:80`)).toEqual([V6.pod1, V6.svc])
    expect(resolve(V6.pod1, `[${V6.pod2}]:8080`)).toEqual([V6.pod1, V6.pod2])
    // The API may write an address in another form; it is compared canonically.
    expect(resolve('p1', '[fd00:10:244:2:0::2]:8080')).toEqual([V6.pod1, V6.pod2])
  })

  it('refuses a family the object does not have, or an address of the other family than --ip-family, as bad input', () => {
    expect(() => resolve('p1', 'svc/default/web', {family: 6}, v4only)).toThrow('service default/web has no IPv6 ClusterIP (its families: IPv4)')
    expect(() => resolve('p1', `${V4.pod2}:8080`, {family: 6})).toThrow(`${V4.pod2} is an IPv4 address, but the trace is IPv6`)
    expect(() => resolve('p1', `[${V6.pod2}]:8080`, {}, v4only)).toThrow('pod default/p1 has no IPv6 address (its families: IPv4)')
    expect(() => resolve('p1', 'p2', {family: 6, port: 8080}, v4only)).toThrow('pod default/p2 has no IPv6 address (its families: IPv4)')
  })
})

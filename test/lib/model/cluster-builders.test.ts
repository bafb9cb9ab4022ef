/**
 * podOf, serviceOf and endpointSliceOf are written for speed (one literal for the usual object,
 * assignments in key order for the rest; no spreads, no map/find chains): doctor reads every pod,
 * Service and EndpointSlice of the cluster through them. These tests hold them to the plain readers
 * they replaced (kept below as the reference): the same items, the same key order, the same
 * problems, on real objects, on the benchmark's objects, and on real objects with any value replaced.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {clusterEvidence} from '../../../bench/generators/cluster.js'
import {natFixture} from '../../../bench/generators/kube-proxy.js'
import {objectsFromYamlFile} from '../../../src/lib/apiserver/load.js'
import {endpointSliceOf, type Endpoint, type EndpointSliceModel} from '../../../src/lib/model/cluster/endpointslices.js'
import {podOf, type ContainerPort, type PodModel} from '../../../src/lib/model/cluster/pods.js'
import {arr, bool, defined, intOrString, ipText, meta as metaOf, num, protocol, rec, str, stringMap, strings, type ModelProblem} from '../../../src/lib/model/cluster/read.js'
import {serviceOf, type ServicePort, type ServiceModel, type ServiceType} from '../../../src/lib/model/cluster/services.js'
import {breather, mutate} from '../../helpers/fuzz.js'

// ------------------------------------------------------------ the reference readers

function podReference(obj: unknown, i: number, problems: ModelProblem[]): PodModel | undefined {
  const m = metaOf(obj)
  if (!m) return void problems.push({subject: `pods[${i}]`, message: 'pod without metadata.name ignored'})
  const spec = rec(rec(obj).spec)
  const status = rec(rec(obj).status)
  const listed = defined(arr(status.podIPs).map((p) => str(rec(p).ip) || undefined))
  const single = str(status.podIP)
  const podIPs = (listed.length === 0 && single ? [single] : listed).map(ipText)
  const readyCondition = arr(status.conditions).map(rec).find((c) => c.type === 'Ready')
  const containers = arr(spec.containers).map((c) => {
    const r = rec(c)
    const ports = defined(
      arr(r.ports).map((p): ContainerPort | undefined => {
        const pr = rec(p)
        const containerPort = intOrString(pr.containerPort)
        if (typeof containerPort !== 'number') {
          problems.push({subject: `pod ${m.namespace}/${m.name}`, message: `container ${str(r.name) ?? '?'}: port without a numeric containerPort ignored`})
          return undefined
        }
        const name = str(pr.name)
        const hostPort = num(pr.hostPort)
        return {...(name ? {name} : {}), containerPort, protocol: protocol(pr.protocol), ...(hostPort ? {hostPort} : {})}
      }),
    )
    return {name: str(r.name) ?? '', ports}
  })
  const hostIP = str(status.hostIP)
  const node = str(spec.nodeName)
  return {
    namespace: m.namespace,
    name: m.name,
    labels: m.labels,
    podIPs,
    ...(hostIP ? {hostIP} : {}),
    ...(node ? {node} : {}),
    hostNetwork: spec.hostNetwork === true,
    phase: str(status.phase) ?? 'Unknown',
    ...(readyCondition ? {ready: readyCondition.status === 'True'} : {}),
    containers,
  }
}

const TYPES: readonly ServiceType[] = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']

function serviceReference(obj: unknown, i: number, problems: ModelProblem[]): ServiceModel | undefined {
  const m = metaOf(obj)
  if (!m) return void problems.push({subject: `services[${i}]`, message: 'service without metadata.name ignored'})
  const subject = `service ${m.namespace}/${m.name}`
  const spec = rec(rec(obj).spec)
  const status = rec(rec(obj).status)
  const rawType = str(spec.type) ?? 'ClusterIP'
  const type = (TYPES as readonly string[]).includes(rawType) ? (rawType as ServiceType) : 'ClusterIP'
  if (type !== rawType) problems.push({subject, message: `unknown type "${rawType}" read as ClusterIP`})
  const listed = strings(spec.clusterIPs)
  const single = str(spec.clusterIP)
  const ips = listed.length === 0 && single ? [single] : listed
  const headless = ips.includes('None')
  const ports = defined(
    arr(spec.ports).map((p): ServicePort | undefined => {
      const r = rec(p)
      const port = num(r.port)
      if (port === undefined) return void problems.push({subject, message: 'port without a number ignored'})
      const name = str(r.name)
      const nodePort = num(r.nodePort)
      return {...(name ? {name} : {}), port, targetPort: intOrString(r.targetPort) ?? port, ...(nodePort ? {nodePort} : {}), protocol: protocol(r.protocol)}
    }),
  )
  const selector = spec.selector === undefined || spec.selector === null ? undefined : stringMap(spec.selector)
  const etp = str(spec.externalTrafficPolicy)
  const itp = str(spec.internalTrafficPolicy)
  const externalName = str(spec.externalName)
  return {
    namespace: m.namespace,
    name: m.name,
    labels: m.labels,
    type,
    clusterIPs: headless ? [] : defined(ips.map((ip) => (ip ? ipText(ip) : undefined))),
    headless,
    ipFamilies: strings(spec.ipFamilies),
    ports,
    ...(selector && Object.keys(selector).length > 0 ? {selector} : {}),
    ...(etp === 'Cluster' || etp === 'Local' ? {externalTrafficPolicy: etp} : {}),
    ...(itp === 'Cluster' || itp === 'Local' ? {internalTrafficPolicy: itp} : {}),
    sessionAffinity: spec.sessionAffinity === 'ClientIP' ? 'ClientIP' : 'None',
    externalIPs: strings(spec.externalIPs),
    loadBalancerIngress: arr(rec(status.loadBalancer).ingress).map((g) => {
      const r = rec(g)
      const ip = str(r.ip)
      const hostname = str(r.hostname)
      return {...(ip ? {ip} : {}), ...(hostname ? {hostname} : {})}
    }),
    ...(externalName ? {externalName} : {}),
  }
}

function endpointSliceReference(obj: unknown, i: number, problems: ModelProblem[]): EndpointSliceModel | undefined {
  const m = metaOf(obj)
  if (!m) return void problems.push({subject: `endpointSlices[${i}]`, message: 'EndpointSlice without metadata.name ignored'})
  const r = rec(obj)
  const endpoints = arr(r.endpoints).map((e): Endpoint => {
    const er = rec(e)
    const c = rec(er.conditions)
    const ready = bool(c.ready)
    const serving = bool(c.serving)
    const terminating = bool(c.terminating)
    const nodeName = str(er.nodeName)
    const hostname = str(er.hostname)
    const t = rec(er.targetRef)
    const tName = str(t.name)
    const tNamespace = str(t.namespace)
    return {
      addresses: strings(er.addresses).map(ipText),
      ...(ready === undefined ? {} : {ready}),
      ...(serving === undefined ? {} : {serving}),
      ...(terminating === undefined ? {} : {terminating}),
      ...(nodeName ? {nodeName} : {}),
      ...(hostname ? {hostname} : {}),
      ...(tName ? {targetRef: {kind: str(t.kind) ?? '', ...(tNamespace ? {namespace: tNamespace} : {}), name: tName}} : {}),
    }
  })
  const ports = arr(r.ports).map((p) => {
    const pr = rec(p)
    const name = str(pr.name)
    const port = num(pr.port)
    return {...(name ? {name} : {}), ...(port === undefined ? {} : {port}), protocol: protocol(pr.protocol)}
  })
  const serviceName = m.labels['kubernetes.io/service-name']
  return {namespace: m.namespace, name: m.name, ...(serviceName ? {serviceName} : {}), addressType: str(r.addressType) ?? 'IPv4', endpoints, ports}
}

// ------------------------------------------------------------ comparison

type Reader = (obj: unknown, i: number, problems: ModelProblem[]) => unknown
const READERS: Record<string, [Reader, Reader]> = {
  Pod: [podOf, podReference],
  Service: [serviceOf, serviceReference],
  EndpointSlice: [endpointSliceOf, endpointSliceReference],
}

/** JSON keeps key order, and undefined fields would show as missing keys: equal text means the same object. */
function sameReading(kind: string, obj: unknown, i = 0): void {
  const [fast, reference] = READERS[kind] as [Reader, Reader]
  const problems: ModelProblem[] = []
  const expectedProblems: ModelProblem[] = []
  const item = fast(obj, i, problems)
  const expected = reference(obj, i, expectedProblems)
  expect(JSON.stringify(item)).toBe(JSON.stringify(expected))
  expect(item).toStrictEqual(expected)
  expect(problems).toStrictEqual(expectedProblems)
}

const real = [
  ...objectsFromYamlFile(new URL('../../fixtures/cluster/kubeadm-3node.yaml', import.meta.url).pathname),
  ...objectsFromYamlFile(new URL('../../fixtures/cluster/kubectl-get-all.yaml', import.meta.url).pathname),
]
const kindOf = (o: unknown): string => String(rec(o).kind)
const readable = real.filter((o) => kindOf(o) in READERS)

describe('the cluster model\'s fast readers equal the plain ones', () => {
  it('on real Pods, Services and EndpointSlices', () => {
    expect(new Set(readable.map(kindOf))).toEqual(new Set(Object.keys(READERS)))
    readable.forEach((o, i) => sameReading(kindOf(o), o, i))
  })

  it("on the benchmark's cluster objects (every pod, Service and EndpointSlice of a 300-Service cluster)", () => {
    const objects = clusterEvidence(natFixture({services: 300, endpoints: 3}).objects).objects
    expect(objects.pods.length).toBeGreaterThan(300)
    objects.pods.forEach((o, i) => sameReading('Pod', o, i))
    objects.services.forEach((o, i) => sameReading('Service', o, i))
    objects.endpointSlices.forEach((o, i) => sameReading('EndpointSlice', o, i))
  })

  it('on objects without the usual fields, with odd ones, and on anything at all', () => {
    const odd: [string, unknown][] = [
      ['Pod', {metadata: {name: 'p'}, status: {podIPs: [{ip: ''}, {ip: 'fd00:0::A'}], podIP: '10.0.0.1', conditions: [{type: 'Ready', status: 'False'}, {type: 'Ready', status: 'True'}]}}],
      ['Pod', {metadata: {name: 'p', namespace: 'n'}, spec: {hostNetwork: true, containers: [{ports: [{containerPort: '80', hostPort: 0}, {containerPort: 'http'}, {containerPort: 53, protocol: 'UDP', name: 'dns', hostPort: 53}]}, 7]}, status: {podIPs: [{ip: ''}], podIP: '10.0.0.2'}}],
      ['Pod', {metadata: {name: 'p', labels: {a: 'b', n: 1, __proto__: 'x'}}, spec: {nodeName: 'n1'}, status: {hostIP: '1.2.3.4', podIPs: 'x'}}],
      ['Service', {metadata: {name: 's'}, spec: {type: 'NodePort', externalTrafficPolicy: 'Local', selector: {}, ports: [{port: 80, nodePort: 30080}, {port: 81, name: 'b', nodePort: 30081, targetPort: 'web'}, {}]}}],
      ['Service', {metadata: {name: 's'}, spec: {type: 'ExternalName', externalName: 'x.example', internalTrafficPolicy: 'Cluster', selector: {a: 'b'}}}],
      ['Service', {metadata: {name: 's'}, spec: {clusterIPs: ['None'], selector: null, internalTrafficPolicy: 'Local', sessionAffinity: 'ClientIP'}, status: {loadBalancer: {ingress: [{ip: '1.1.1.1'}, {hostname: 'h'}, {}]}}}],
      ['Service', {metadata: {name: 's'}, spec: {type: 'LoadBalancer', selector: {a: 'b'}, internalTrafficPolicy: 'Cluster', externalTrafficPolicy: 'Cluster', externalIPs: ['2.2.2.2', 3]}}],
      ['EndpointSlice', {metadata: {name: 'e', labels: {'kubernetes.io/service-name': 's'}}, endpoints: [{addresses: ['10.0.0.1'], conditions: {ready: true, serving: true, terminating: false}, nodeName: 'n', targetRef: {kind: 'Pod', name: 'p'}}, {addresses: ['fd00::1'], hostname: 'h', conditions: {ready: false}}, {}, 5], ports: [{port: 80}, {name: 'x'}, {}]}],
      ['EndpointSlice', {metadata: {name: 'e'}, addressType: 'IPv6', endpoints: [{addresses: [], conditions: {ready: true, serving: true, terminating: false}, nodeName: 'n', hostname: 'h', targetRef: {namespace: 'a', name: 'p'}}]}],
    ]
    for (const [kind, obj] of odd) sameReading(kind, obj)
    for (const kind of Object.keys(READERS)) for (const v of [null, 5, 'x', [], {}, {metadata: {}}, {metadata: {name: 'x'}, spec: [], status: 'y'}]) sameReading(kind, v, 3)
  })

  it('on real objects with one value anywhere replaced by arbitrary JSON', async () => {
    const breathe = breather()
    await fc.assert(
      fc.asyncProperty(fc.nat(readable.length - 1), fc.array(fc.nat(), {maxLength: 6}), fc.jsonValue(), async (index, path, value) => {
        await breathe()
        const obj = readable[index]
        sameReading(kindOf(obj), JSON.parse(JSON.stringify(mutate(obj, path, value))) as unknown, index)
      }),
      {numRuns: Math.min(Number(process.env.FUZZ_RUNS ?? 300), 3000)},
    )
  })
})

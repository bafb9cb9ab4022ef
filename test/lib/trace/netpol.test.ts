/**
 * NetworkPolicy in trace, from the API objects: policies added to a captured lab snapshot (the lab
 * enforces none, so these are judged from the objects only, as the issue asks).
 */
import {fileURLToPath} from 'node:url'
import {beforeAll, describe, expect, it} from 'vitest'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {traceSnapshot} from '../../../src/lib/trace/path.js'
import type {TraceResult, TraceProtocol} from '../../../src/lib/trace/types.js'

const fixture = fileURLToPath(new URL('fixtures/lab-host-gw.json.gz', import.meta.url))

function policy(name: string, spec: Record<string, unknown>): unknown {
  return {apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: {name, namespace: 'default'}, spec}
}

function withPolicies(snap: Snapshot, policies: unknown[]): Snapshot {
  const copy = structuredClone(snap)
  if (!copy.cluster) throw new Error('no cluster in fixture')
  copy.cluster.objects.networkPolicies = policies
  return copy
}

function trace(snap: Snapshot, src: string, dst: string, protocol?: TraceProtocol): TraceResult {
  return traceSnapshot(snap, {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default'), ...(protocol ? {protocol} : {})})
}

describe('NetworkPolicy in trace', () => {
  let snap: Snapshot
  beforeAll(async () => {
    snap = await readSnapshot(fixture)
  })

  const dnsOnlyIngress = policy('dns-only', {
    podSelector: {matchLabels: {tier: 'dns'}},
    policyTypes: ['Ingress'],
    ingress: [{from: [{podSelector: {matchLabels: {app: 'web'}}}], ports: [{protocol: 'UDP', port: 'dns'}]}],
  })

  it('an ingress policy that admits nothing for this port is a drop naming the policy, at the destination pod', () => {
    const s = withPolicies(snap, [dnsOnlyIngress])
    const r = trace(s, 'web-1-2', 'web-2-1')
    expect([r.verdict, r.reason?.code, r.reason?.hop]).toEqual(['dropped', 'netpol-denied', 9])
    expect(r.reason?.message).toBe('NetworkPolicy default/dns-only selects default/web-2-1 for ingress and admits nothing from default/web-1-2 on 8080/tcp')
    expect(r.hops[8]).toMatchObject({label: 'web-2-1 eth0', status: 'fail', code: 'netpol-denied'})
    // The named port it does admit, and a pod it does not select.
    expect(trace(s, 'web-1-2', 'web-2-1', 'udp').verdict).toBe('delivered')
    expect(trace(s, 'web-1-1', 'web-2-2').verdict).toBe('delivered')
  })

  it('judged on the endpoint after DNAT: a Service with a denied endpoint is partial', () => {
    const r = trace(withPolicies(snap, [dnsOnlyIngress]), 'web-1-2', 'svc/default/web')
    expect(r.verdict).toBe('partial')
    expect(r.branches.map((b) => `${b.endpoint}=${b.verdict}${b.reason ? `/${b.reason.code}` : ''}`)).toEqual([
      'pod/default/web-1-1=dropped/netpol-denied',
      'pod/default/web-1-2=delivered',
      'pod/default/web-2-1=dropped/netpol-denied',
      'pod/default/web-2-2=delivered',
    ])
    expect(r.reason?.code).toBe('netpol-denied')
  })

  it('egress of the source pod: default-deny egress drops, an ipBlock rule admits', () => {
    const deny = policy('deny-egress', {podSelector: {matchLabels: {app: 'web'}}, policyTypes: ['Egress']})
    const r = trace(withPolicies(snap, [deny]), 'web-1-1', 'web-2-2')
    expect([r.verdict, r.reason?.code, r.reason?.message]).toEqual(['dropped', 'netpol-denied', 'NetworkPolicy default/deny-egress selects default/web-1-1 for egress and admits nothing from default/web-2-2 on 8080/tcp'])
    const allow = policy('to-node-2-pods', {podSelector: {}, policyTypes: ['Egress'], egress: [{to: [{ipBlock: {cidr: '10.244.2.0/24', except: ['10.244.2.2/32']}}]}]})
    expect(trace(withPolicies(snap, [allow]), 'web-1-1', 'web-2-2').verdict).toBe('delivered')
    expect(trace(withPolicies(snap, [allow]), 'web-1-1', 'web-2-1').reason?.code).toBe('netpol-denied')
  })

  it('NetworkPolicies that could not be read make the verdict unknown, not allowed', () => {
    const s = structuredClone(snap)
    s.cluster?.errors.push({source: 'networkpolicies', kind: 'forbidden', message: 'forbidden'} as never)
    const r = trace(s, 'web-1-1', 'web-2-2')
    expect([r.verdict, r.reason?.code, r.reason?.message]).toEqual(['unknown', 'evidence-missing', 'NetworkPolicies could not be read'])
  })
})

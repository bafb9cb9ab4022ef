/**
 * The fault catalogue without root: ids, documentation, and the pure parts (API object and
 * kube-proxy transforms, argument checks). The faults themselves are exercised on real labs in
 * test/commands/lab-faults-*.test.ts.
 */
import {rmSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {FAULTS, findFault} from '../../../src/lib/lab/faults/registry.js'
import {renderCatalogue, renderHeal} from '../../../src/lib/lab/faults/render.js'
import {appliedFaults, breakFault, expectedOutcome, faultCatalogue, healFaults, requireFault} from '../../../src/lib/lab/faults/run.js'
import {natPayload} from '../../../src/lib/lab/faults/sync.js'
import type {AppliedFault} from '../../../src/lib/lab/faults/types.js'
import {withoutPod} from '../../../src/lib/lab/faults/util.js'
import {labObjects} from '../../../src/lib/lab/objects.js'
import {planLab} from '../../../src/lib/lab/plan.js'
import {tempLabRoot} from './lab-harness.js'

const ISSUE_IDS = [
  'missing-route',
  'stale-route',
  'docker0-overlap',
  'cidr-overlap',
  'stale-nat',
  'missing-nat',
  'ip-forward-off',
  'forward-drop',
  'bridge-nf-off',
  'veth-detached',
  'bridge-down',
  'mtu-mismatch',
  'netpol-deny',
  'stale-conntrack',
  // Issue 14: routed-veth (ptp, Calico) layouts and Calico's VXLAN.
  'missing-pod-route',
  'proxy-arp-off',
  'missing-fdb',
  // Issue 14: the AWS VPC CNI's per-pod policy routing.
  'missing-pod-rule',
]

const plan = planLab({name: 'tfu', nodes: 2, podsPerNode: 2, topology: 'host-gw'})

function applied(id: string, node: string, target: string, data?: AppliedFault['data']): AppliedFault {
  return {id, node, target, appliedAt: '2026-01-01T00:00:00Z', undo: [], ...(data ? {data} : {})}
}

describe('fault registry', () => {
  it('has exactly the faults of the issues (14, and missing-pod-route for ptp), each id once', () => {
    expect(FAULTS.map((f) => f.id)).toEqual(ISSUE_IDS)
    expect(new Set(FAULTS.map((f) => f.id)).size).toBe(FAULTS.length)
  })

  it('says which topologies a fault does not apply to, and break refuses them with that reason', async () => {
    expect(FAULTS.filter((f) => f.notFor?.ptp).map((f) => f.id)).toEqual(['docker0-overlap', 'cidr-overlap', 'bridge-nf-off', 'bridge-down', 'proxy-arp-off', 'missing-fdb'])
    expect(FAULTS.filter((f) => f.notFor?.['host-gw'] || f.notFor?.vxlan).map((f) => f.id)).toEqual(['missing-pod-route', 'proxy-arp-off', 'missing-fdb'])
    expect(FAULTS.filter((f) => f.notFor?.['calico-vxlan']).map((f) => f.id)).toEqual(['docker0-overlap', 'cidr-overlap', 'bridge-nf-off', 'bridge-down'])
    expect(FAULTS.filter((f) => f.notFor?.['aws-vpc']).map((f) => f.id)).toEqual(['missing-route', 'stale-route', 'docker0-overlap', 'cidr-overlap', 'bridge-nf-off', 'bridge-down', 'proxy-arp-off', 'missing-fdb'])
    expect(FAULTS.filter((f) => f.topologies).map((f) => [f.id, f.topologies])).toEqual([['missing-pod-rule', ['aws-vpc']]])
    const text = renderCatalogue(faultCatalogue())
    expect(text).toContain('  not for ptp: no pod bridge: each pod has its own routed veth (see veth-detached, which downs one)')
    expect(text).toContain("  expect (ptp): as above, except that same-node pod-to-pod traffic on node-1 times out too: without a bridge it is routed by the node.")
  })

  it('documents every fault: what it emulates, the probe change, the API side, defaults', () => {
    for (const f of FAULTS) {
      expect(f.emulates.length, f.id).toBeGreaterThan(60)
      expect(f.expect, f.id).toMatch(/timeout|partial/)
      expect(f.expect, f.id).toMatch(/delivered/)
      expect(f.api, f.id).toMatch(/^(Linux only|API: )/)
      expect(f.defaults.node, f.id).toMatch(/^(all|node-\d)$/)
      expect(f.defaults.target.length, f.id).toBeGreaterThan(0)
      expect(f.targetHelp.length, f.id).toBeGreaterThan(0)
    }
  })

  it('the faults that change the API say so, the others say Linux only', () => {
    const api = FAULTS.filter((f) => f.objects !== undefined).map((f) => f.id)
    expect(api).toEqual(['stale-nat', 'netpol-deny', 'stale-conntrack'])
    for (const f of FAULTS) expect(f.api.startsWith('API: '), f.id).toBe(api.includes(f.id))
  })

  it('an unknown fault is one line listing the valid ids (exit 2), before the lab is even looked at', async () => {
    expect(() => requireFault('nope')).toThrow(`unknown fault "nope"; valid: ${ISSUE_IDS.join(', ')}`)
    await expect(breakFault('tfu', 'nope', {root: '/nonexistent'})).rejects.toMatchObject({kind: 'bad-input', exitCode: 2})
    await expect(healFaults('tfu', 'nope', {root: '/nonexistent'})).rejects.toMatchObject({kind: 'bad-input', exitCode: 2})
    expect(findFault('missing-route')?.id).toBe('missing-route')
  })

  it('breaking on a lab that does not exist is bad input', async () => {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) return
    const root = tempLabRoot('tfu')
    try {
      await expect(breakFault('tfu', 'missing-route', {root})).rejects.toThrow('no lab named tfu')
      await expect(healFaults('tfu', undefined, {root})).rejects.toThrow('no lab named tfu')
    } finally {
      rmSync(root, {recursive: true, force: true})
    }
  })

  it('the catalogue renders every fault with its defaults', () => {
    const text = renderCatalogue(faultCatalogue())
    for (const id of ISSUE_IDS) expect(text).toContain(`${id}  (--node `)
    expect(text).toContain('missing-route  (--node node-1, --target node-2: the node whose pod CIDR the route leads to)')
    expect(renderHeal({schemaVersion: 1, lab: 'x', healed: [], remaining: []})).toBe('lab x: nothing to heal')
  })

  it('state entries that are not applied faults are ignored', () => {
    expect(appliedFaults([applied('bridge-down', 'node-1', 'cbr0'), {bogus: true}, 'x']).map((f) => f.id)).toEqual(['bridge-down'])
    expect(appliedFaults(undefined)).toEqual([])
  })
})

describe('fault transforms', () => {
  it('missing-nat: only the chosen node loses only that Service', () => {
    const faults = [applied('missing-nat', 'node-1', 'svc/default/web')]
    const n1 = natPayload(plan, plan.nodes[0] as never, faults, findFault)
    const n2 = natPayload(plan, plan.nodes[1] as never, faults, findFault)
    expect(n1.startsWith('*nat\n')).toBe(true)
    expect(n1).not.toContain('default/web:http cluster IP')
    expect(n1).toContain('default/web-np:http cluster IP')
    expect(n1).toContain('default/dns:dns cluster IP')
    expect(n2).toContain('default/web:http cluster IP')
    expect(n1).not.toContain('*filter')
  })

  it('stale-conntrack: the removed endpoint leaves every node\'s rules and the API', () => {
    const faults = [applied('stale-conntrack', 'node-1', 'web-1-2', {endpoint: 'web-2-1', client: 'web-1-2', sourcePort: 40053})]
    for (const node of plan.nodes) {
      const nat = natPayload(plan, node, faults, findFault)
      expect(nat).not.toContain('10.244.2.2:')
      expect(nat).toContain('DNAT --to-destination 10.244.1.2:5353')
    }
    const objects = findFault('stale-conntrack')?.objects?.(labObjects(plan), faults[0] as AppliedFault, plan) ?? []
    expect(objects.filter((o) => o.kind === 'Pod').map((o) => (o.metadata as {name: string}).name)).toEqual(['web-1-1', 'web-1-2', 'web-2-2'])
  })

  it('stale-nat deletes the Pod and its endpoints from the API but leaves the rules', () => {
    const fault = findFault('stale-nat')
    const a = applied('stale-nat', 'all', 'web-2-2', {pod: 'web-2-2'})
    expect(fault?.kubeProxy).toBeUndefined()
    const objects = fault?.objects?.(labObjects(plan), a, plan) ?? []
    expect(objects).toEqual(withoutPod(labObjects(plan), 'web-2-2'))
    const slices = objects.filter((o) => o.kind === 'EndpointSlice')
    expect(slices.map((s) => [(s.metadata as {name: string}).name, (s.endpoints as {targetRef: {name: string}}[]).map((e) => e.targetRef.name)])).toEqual([
      ['web-lab', ['web-1-1', 'web-1-2', 'web-2-1']],
      ['dns-lab', ['web-1-1', 'web-2-1']],
      ['web-np-lab', ['web-1-1', 'web-1-2', 'web-2-1']],
      ['empty-lab', []],
    ])
  })

  it('netpol-deny adds a default-deny NetworkPolicy that selects exactly the target pod', () => {
    const objects = findFault('netpol-deny')?.objects?.(labObjects(plan), applied('netpol-deny', 'node-2', 'web-2-2'), plan) ?? []
    const policy = objects.find((o) => o.kind === 'NetworkPolicy')
    expect(policy).toMatchObject({
      apiVersion: 'networking.k8s.io/v1',
      metadata: {name: 'deny-ingress-web-2-2', namespace: 'default'},
      spec: {podSelector: {matchLabels: {'knet.dev/quarantine': 'true'}}, policyTypes: ['Ingress']},
    })
    const selected = objects.filter((o) => o.kind === 'Pod' && (o.metadata as {labels?: Record<string, string>}).labels?.['knet.dev/quarantine'] === 'true')
    expect(selected.map((o) => (o.metadata as {name: string}).name)).toEqual(['web-2-2'])
  })
})

describe('what `knet lab break` says the probes will show', () => {
  const fault = requireFault('missing-nat')
  const forwardDrop = requireFault('forward-drop')
  it("a real lab gets the fault's real-lab outcome, not the emulated one", () => {
    expect(fault.real?.expect).toBeTruthy()
    expect(expectedOutcome(fault, 'vxlan', 4, true)).toBe(fault.real?.expect)
    expect(expectedOutcome(fault, 'vxlan', 4, false)).toBe(fault.expect)
  })
  it("a topology's own outcome is shown after the general one it refers to", () => {
    const text = expectedOutcome(forwardDrop, 'ptp', 4, false)
    expect(text.startsWith(forwardDrop.expect)).toBe(true)
    expect(text).toContain(`On a ptp lab: ${forwardDrop.expectFor?.ptp}`)
    expect(expectedOutcome(forwardDrop, 'host-gw', 4, false)).toBe(forwardDrop.expect)
  })
  it('an IPv6 break gets the IPv6 outcome', () => {
    expect(forwardDrop.expect6).toBeTruthy()
    expect(expectedOutcome(forwardDrop, 'host-gw', 6, false)).toBe(forwardDrop.expect6)
  })
})

import {describe, expect, it} from 'vitest'
import {generateCluster} from '../../../src/lib/apiserver/generate.js'

type Obj = {kind: string; metadata: {name: string; namespace?: string}; spec?: Record<string, unknown>; status?: Record<string, unknown>}

const count = (objects: unknown[]): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const o of objects as Obj[]) out[o.kind] = (out[o.kind] ?? 0) + 1
  return out
}

describe('generateCluster', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = generateCluster({nodes: 20, pods: 300, services: 40, seed: 7})
    expect(generateCluster({nodes: 20, pods: 300, services: 40, seed: 7})).toEqual(a)
    expect(generateCluster({nodes: 20, pods: 300, services: 40, seed: 8})).not.toEqual(a)
  })

  it('produces the requested counts plus the kube-system basics', () => {
    const objects = generateCluster({nodes: 20, pods: 300, services: 40})
    // +2 coredns pods, +2 system Services (kubernetes, kube-dns) and their slices; team-0, team-1, default, kube-system
    expect(count(objects)).toEqual({Node: 20, Pod: 302, Service: 42, EndpointSlice: 42, NetworkPolicy: 2, Namespace: 4, DaemonSet: 2, ConfigMap: 1})
  })

  it('gives every node a distinct /24 inside 10.128.0.0/9 and pods IPs inside their node range', () => {
    const objects = generateCluster({nodes: 600, pods: 1800, services: 30}) as Obj[]
    const nodes = objects.filter((o) => o.kind === 'Node')
    const cidrs = nodes.map((n) => n.spec?.podCIDR as string)
    expect(new Set(cidrs).size).toBe(600)
    expect(cidrs[0]).toBe('10.128.0.0/24')
    expect(cidrs[599]).toBe('10.130.87.0/24')
    const byNode = new Map(nodes.map((n) => [n.metadata.name, (n.spec?.podCIDR as string).replace(/\.0\/24$/, '.')]))
    for (const p of objects.filter((o) => o.kind === 'Pod' && o.metadata.namespace !== 'kube-system')) {
      const prefix = byNode.get(p.spec?.nodeName as string) ?? 'missing'
      expect((p.status?.podIP as string).startsWith(prefix)).toBe(true)
    }
    const ips = objects.filter((o) => o.kind === 'Pod').map((p) => p.status?.podIP)
    expect(new Set(ips).size).toBe(ips.length)
  })

  it('allocates ClusterIPs inside 10.96.0.0/12 and selects its own pods', () => {
    const objects = generateCluster({nodes: 5, pods: 50, services: 25}) as Obj[]
    const services = objects.filter((o) => o.kind === 'Service')
    expect(services.find((s) => s.metadata.name === 'kubernetes')?.spec?.clusterIP).toBe('10.96.0.1')
    for (const s of services) {
      const ip = s.spec?.clusterIP as string
      if (ip !== 'None') expect(ip).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\./)
    }
    expect(services.filter((s) => s.spec?.clusterIP === 'None').map((s) => s.metadata.name)).toEqual(['svc-24'])
  })

  it('refuses shapes that cannot be addressed', () => {
    expect(() => generateCluster({nodes: 2, pods: 600, services: 1})).toThrow('more than 253 pods per node')
  })
})

import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {generateCluster} from '../../../../src/lib/apiserver/generate.js'
import {startApiServer} from '../../../../src/lib/apiserver/server.js'
import {gatherCluster} from '../../../../src/lib/gather/cluster/gather.js'
import {buildClusterModel} from '../../../../src/lib/model/cluster.js'

// Counts only: time and memory are measured by bench/cluster-gather.ts, not asserted here.
describe('a generated 2,000-node / 60,000-pod / 5,000-Service cluster', () => {
  it('arrives complete, in pages of at most 500', {timeout: 300_000}, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'knet-scale-'))
    const server = await startApiServer({objects: generateCluster({nodes: 2000, pods: 60_000, services: 5000, seed: 3}), tls: 'self-signed', token: 'scale'})
    try {
      const evidence = await gatherCluster({kubeconfig: server.writeKubeconfig(join(dir, 'kc')), timeoutMs: 60_000})
      const o = evidence.objects
      // +2 coredns pods, +2 system Services and their EndpointSlices
      expect([o.nodes.length, o.pods.length, o.services.length, o.endpointSlices.length, o.networkPolicies.length, o.daemonSets.length, o.namespaces?.length]).toEqual([
        2000, 60_002, 5002, 5002, 50, 2, 252,
      ])
      const podPages = server.requests.filter((r) => r.path === '/api/v1/pods')
      expect(podPages).toHaveLength(121)
      expect(podPages.every((r) => r.query.limit === '500')).toBe(true)
      expect(podPages.filter((r) => r.query.continue !== undefined)).toHaveLength(120)
      const model = buildClusterModel(evidence)
      expect([model.nodes.length, model.pods.length, model.services.length, model.problems.length]).toEqual([2000, 60_002, 5002, 0])
      expect(model.cni?.cni).toBe('calico')
      expect(model.kubeProxy.clusterCIDRs).toEqual(['10.128.0.0/9'])
    } finally {
      await server.close()
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

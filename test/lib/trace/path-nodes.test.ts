/** Which nodes a trace gathers, from the cluster state alone (the captured host-gw lab's objects). */
import {fileURLToPath} from 'node:url'
import {beforeAll, describe, expect, it} from 'vitest'
import type {ClusterEvidence} from '../../../src/lib/gather/cluster/evidence.js'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {pathNodes} from '../../../src/lib/trace/path-nodes.js'

const fixture = fileURLToPath(new URL('fixtures/lab-host-gw.json.gz', import.meta.url))

describe('trace: only the nodes on the path', () => {
  let cluster: ClusterEvidence
  beforeAll(async () => {
    const s = await readSnapshot(fixture)
    if (!s.cluster) throw new Error('no cluster')
    cluster = s.cluster
  })
  const nodes = (src: string, dst: string, extra: {entryNode?: string; protocol?: 'icmp'} = {}) =>
    pathNodes(cluster, {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default'), ...extra})

  it('pods, nodes, Services, NodePorts, external sources and addresses', () => {
    expect(nodes('web-1-1', 'web-1-2')).toEqual(['node-1'])
    expect(nodes('web-1-1', 'web-2-2')).toEqual(['node-1', 'node-2'])
    expect(nodes('node/node-2', 'web-2-1')).toEqual(['node-2'])
    expect(nodes('web-1-1', 'svc/default/dns')).toEqual(['node-1', 'node-2'])
    expect(nodes('web-1-1', 'svc/default/empty')).toEqual(['node-1'])
    // A NodePort behind node-1's IP: node-1 and every node with an endpoint of that Service.
    expect(nodes('192.0.2.9', '10.100.0.2:30080', {entryNode: 'node-1'})).toEqual(['node-1', 'node-2'])
    // An address in a pod CIDR but nobody's: that CIDR's node; an address the cluster does not place: every node.
    expect(nodes('web-1-1', '10.244.2.99:80')).toEqual(['node-1', 'node-2'])
    expect(nodes('web-1-1', '172.17.2.3', {protocol: 'icmp'})).toBeUndefined()
  })

  it('what cannot be traced is refused before anything is gathered', () => {
    expect(() => nodes('web-1-1', 'nosuch')).toThrow(/no pod default\/nosuch/)
    expect(() => nodes('192.0.2.9', 'web-1-1')).toThrow(/is no pod's, Service's or node's address/)
  })
})

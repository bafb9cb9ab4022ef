import {describe, expect, it} from 'vitest'
import {buildModel} from '../../../src/lib/model/model.js'
import {podRanges} from '../../../src/lib/model/pod-ranges.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {snapshotOf} from '../checks/fixtures.js'
import {calicoNode, withCniDaemonSet} from '../checks/scenarios.js'

/** An IPAMBlock as `kubectl get ipamblocks -o yaml` prints one (allocations trimmed). */
function block(cidr: string, spec: {affinity?: string; deleted?: boolean} = {}): unknown {
  return {
    apiVersion: 'crd.projectcalico.org/v1',
    kind: 'IPAMBlock',
    metadata: {name: cidr.replace(/[./]/g, '-')},
    spec: {cidr, ...(spec.affinity === undefined ? {} : {affinity: spec.affinity}), allocations: [], unallocated: [], attributes: [], strictAffinity: false, deleted: spec.deleted ?? false},
  }
}

/** node-1 laid out by Calico (its own block 10.244.1.0/26, routes to node-2's and node-3's), with the given IPAMBlocks. */
function calicoCluster(blocks?: unknown[]): Snapshot {
  const snapshot = withCniDaemonSet(snapshotOf({nodes: [calicoNode()]}), 'calico')
  if (blocks) snapshot.cluster!.objects.ipamBlocks = blocks
  return snapshot
}

function ranges(snapshot: Snapshot): string[][] {
  return podRanges(buildModel(snapshot)).ranges.map((r) => [r.owner.name, r.cidr.text, r.kind, r.origin?.source ?? '', r.origin?.text ?? ''])
}

const ROUTES = 'node-1: ip -j route show table all'

describe('pod ranges with Calico IPAMBlock objects', () => {
  it('without them, blocks are read from the routes (an older snapshot, or no Calico CRDs)', () => {
    expect(ranges(calicoCluster())).toEqual([
      ['node-1', '10.244.1.0/26', 'IPAM block', ROUTES, 'blackhole 10.244.1.0/26 proto bird'],
      ['node-2', '10.244.2.0/26', 'IPAM block', ROUTES, '10.244.2.0/26 via 10.100.0.3 dev eth0 proto bird'],
      ['node-3', '10.244.3.0/26', 'IPAM block', ROUTES, '10.244.3.0/26 via 10.100.0.4 dev eth0 proto bird'],
    ])
  })

  it("each host-affine block is its node's range, routed yet or not; routes still count for blocks with no object", () => {
    const snapshot = calicoCluster([
      block('10.244.1.0/26', {affinity: 'host:node-1'}),
      block('10.244.2.0/26', {affinity: 'host:node-2'}),
      // node-3's second block: no node has a route to it yet.
      block('10.244.3.64/26', {affinity: 'host:node-3'}),
      // Unclaimed, or being deleted: nobody's.
      block('10.244.8.0/26'),
      block('10.244.8.64/26', {affinity: 'virtual:ipip-tunnel'}),
      block('10.244.8.128/26', {affinity: 'host:node-2', deleted: true}),
    ])
    expect(ranges(snapshot)).toEqual([
      ['node-1', '10.244.1.0/26', 'IPAM block', 'api: IPAMBlock 10-244-1-0-26 spec.affinity', 'host:node-1 (spec.cidr 10.244.1.0/26)'],
      ['node-2', '10.244.2.0/26', 'IPAM block', 'api: IPAMBlock 10-244-2-0-26 spec.affinity', 'host:node-2 (spec.cidr 10.244.2.0/26)'],
      ['node-3', '10.244.3.64/26', 'IPAM block', 'api: IPAMBlock 10-244-3-64-26 spec.affinity', 'host:node-3 (spec.cidr 10.244.3.64/26)'],
      ['node-3', '10.244.3.0/26', 'IPAM block', ROUTES, '10.244.3.0/26 via 10.100.0.4 dev eth0 proto bird'],
    ])
  })

  it('an object outranks a route that leads elsewhere', () => {
    expect(ranges(calicoCluster([block('10.244.2.0/26', {affinity: 'host:node-3'})]))).toEqual([
      ['node-3', '10.244.2.0/26', 'IPAM block', 'api: IPAMBlock 10-244-2-0-26 spec.affinity', 'host:node-3 (spec.cidr 10.244.2.0/26)'],
      ['node-1', '10.244.1.0/26', 'IPAM block', ROUTES, 'blackhole 10.244.1.0/26 proto bird'],
      ['node-3', '10.244.3.0/26', 'IPAM block', ROUTES, '10.244.3.0/26 via 10.100.0.4 dev eth0 proto bird'],
    ])
  })

  it('a block held by a node that no longer exists is nobody\'s; the routes decide who holds it now', () => {
    const snapshot = calicoCluster([block('10.244.3.0/26', {affinity: 'host:node-9'}), block('10.244.9.0/26', {affinity: 'host:node-9'})])
    const model = buildModel(snapshot)
    expect(model.cluster?.ipamBlocks?.map((b) => [b.name, b.cidr, b.node])).toEqual([
      ['10-244-3-0-26', '10.244.3.0/26', 'node-9'],
      ['10-244-9-0-26', '10.244.9.0/26', 'node-9'],
    ])
    expect(ranges(snapshot)).toEqual([
      ['node-1', '10.244.1.0/26', 'IPAM block', ROUTES, 'blackhole 10.244.1.0/26 proto bird'],
      ['node-2', '10.244.2.0/26', 'IPAM block', ROUTES, '10.244.2.0/26 via 10.100.0.3 dev eth0 proto bird'],
      ['node-3', '10.244.3.0/26', 'IPAM block', ROUTES, '10.244.3.0/26 via 10.100.0.4 dev eth0 proto bird'],
    ])
  })

  it('where spec.podCIDRs are the pod ranges (no Calico IPAM), IPAMBlocks are not', () => {
    const snapshot = snapshotOf()
    snapshot.cluster!.objects.ipamBlocks = [block('10.244.1.0/26', {affinity: 'host:node-1'})]
    expect(ranges(snapshot).map(([node, cidr, kind]) => [node, cidr, kind])).toEqual([
      ['node-1', '10.244.1.0/24', 'pod CIDR'],
      ['node-2', '10.244.2.0/24', 'pod CIDR'],
      ['node-3', '10.244.3.0/24', 'pod CIDR'],
    ])
  })

  it('with no CNI recognised (no DaemonSets, no node evidence), IPAMBlocks held by nodes mean Calico IPAM', () => {
    const bare = (): Snapshot => withCniDaemonSet(snapshotOf({nodes: []}), 'none')
    expect(podRanges(buildModel(bare())).ownIpam).toBeUndefined()
    const snapshot = bare()
    snapshot.cluster!.objects.ipamBlocks = [block('10.244.1.0/26', {affinity: 'host:node-1'}), block('10.244.1.64/26', {affinity: 'host:node-2'})]
    const found = podRanges(buildModel(snapshot))
    expect(found.ownIpam).toBe('calico')
    expect(found.ranges.map((r) => [r.owner.name, r.cidr.text, r.kind])).toEqual([
      ['node-1', '10.244.1.0/26', 'IPAM block'],
      ['node-2', '10.244.1.64/26', 'IPAM block'],
    ])
    // Only blocks a node holds count: unclaimed ones say nothing about how pods get addresses.
    snapshot.cluster!.objects.ipamBlocks = [block('10.244.1.0/26')]
    expect(podRanges(buildModel(snapshot)).ownIpam).toBeUndefined()
  })

  it('an IPAMBlock whose spec.cidr is not a CIDR is a model problem, not a range', () => {
    const model = buildModel(calicoCluster([{apiVersion: 'crd.projectcalico.org/v1', kind: 'IPAMBlock', metadata: {name: 'bad'}, spec: {cidr: '10.244.1.0', affinity: 'host:node-1'}}]))
    expect(model.cluster?.ipamBlocks).toEqual([])
    expect(model.cluster?.problems).toContainEqual({subject: 'IPAMBlock bad', message: 'spec.cidr "10.244.1.0" is not a CIDR'})
  })
})

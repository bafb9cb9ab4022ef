/**
 * The iproute2 parsers against a real node's state: the captured fixture always, and (as root) the
 * same state rebuilt live, so a new iproute2/kernel that changes its JSON shows up here.
 */
import {readFileSync} from 'node:fs'
import {afterAll, beforeAll, describe, it} from 'vitest'
import {buildFlannelNode, captureAll, type Captures, type FlannelNodeLab} from '../../../fixtures/iproute2/build.js'
import type {CapturedScenario} from '../../../fixtures/iproute2/capture.js'
import {describeNetns, TestNetns} from '../../../helpers/netns.js'
import * as x from './flannel-node.expect.js'

function suite(get: () => {node: Captures; pod: Captures}): void {
  it('links: veth pairs across namespaces, bridge port state, vxlan data', () => {
    x.expectNodeLinks(get().node)
    x.expectPodLinks(get().pod)
  })
  it('addresses', () => x.expectNodeAddrs(get().node))
  it('IPv4 routes of all tables', () => x.expectNodeRoutes4(get().node))
  it('IPv6 routes of all tables', () => x.expectNodeRoutes6(get().node))
  it('mixed-family route dump', () => x.expectNodeRoutesAll(get().node))
  it('policy rules', () => x.expectNodeRules(get().node))
  it('neighbours and proxy entries', () => x.expectNodeNeighbours(get().node))
  it('bridge ports and FDB (vxlan VTEPs)', () => x.expectNodeBridge(get().node))
  it('sysctls', () => x.expectNodeSysctls(get().node))
}

describe('flannel node: captured fixture', () => {
  const fixture = JSON.parse(readFileSync(new URL('../../../fixtures/iproute2/flannel-node.json', import.meta.url), 'utf8')) as CapturedScenario
  suite(() => ({node: fixture.namespaces.node ?? {}, pod: fixture.namespaces.pod ?? {}}))
})

describeNetns('flannel node: live namespaces', () => {
  let lab: FlannelNodeLab | undefined
  let captured: {node: Captures; pod: Captures} | undefined
  beforeAll(() => {
    lab = buildFlannelNode(TestNetns.create, 'fl')
    captured = {node: captureAll(lab.node), pod: captureAll(lab.pod, {links: ['ip', '-j', '-d', 'link', 'show']})}
  })
  afterAll(() => lab?.destroy())
  suite(() => {
    if (!captured) throw new Error('lab not built')
    return captured
  })
})

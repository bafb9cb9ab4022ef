import {describe, expect, test} from 'vitest'
import {mtuMismatch} from '../../../src/lib/checks/mtu-mismatch.js'
import {editJson, flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('mtu-mismatch', () => {
  test("reports a VXLAN MTU equal to the underlay's", () => {
    expect(run(mtuMismatch, (SCENARIOS['mtu-mismatch'] as () => never)())).toEqual({
      findings: [
        {
          "check": "mtu-mismatch",
          "severity": "error",
          "subject": {
            "kind": "node",
            "name": "node-1"
          },
          "node": "node-1",
          "message": "vxlan flannel.1 has MTU 1500, more than eth0's 1500 minus 50 bytes of encapsulation (1450)",
          "evidence": [
            {
              "source": "node-1: ip -j -d link show",
              "text": "5: flannel.1 vxlan mtu 1500 state UNKNOWN <BROADCAST,MULTICAST,UP,LOWER_UP>"
            },
            {
              "source": "node-1: ip -j -d link show",
              "text": "2: eth0@if2 veth mtu 1500 state UP link-netnsid 0 <BROADCAST,MULTICAST,UP,LOWER_UP>"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('finds nothing on the healthy base', () => {
    expect(run(mtuMismatch, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(mtuMismatch, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'links': {status: 'failed', reason: 'permission denied'}})]}))).toEqual({findings: [], skipped: [{check: 'mtu-mismatch', reason: "links failed on node-1 (permission denied)"}]})
  })

  const setMtu = (links: string, mtus: Record<string, number>) => editJson(links, (l) => l.map((x) => (typeof x.ifname === 'string' && mtus[x.ifname] ? {...x, mtu: mtus[x.ifname]} : x)))
  const withoutOverlay = (links: string) => editJson(links, (l) => l.filter((x) => x.ifname !== 'flannel.1'))

  test("VXLAN: the node's own NIC lowered under the overlay (the lab's mtu-mismatch) is one finding, about the overlay", () => {
    const links = setMtu(flannelNode().links ?? '', {eth0: 1400})
    const {findings} = run(mtuMismatch, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), links})]}))
    expect(findings.map((f) => [f.node, f.message, f.evidence.map((e) => e.text)])).toEqual([
      [
        'node-1',
        "vxlan flannel.1 has MTU 1450, more than eth0's 1400 minus 50 bytes of encapsulation (1350)",
        ['5: flannel.1 vxlan mtu 1450 state UNKNOWN <BROADCAST,MULTICAST,UP,LOWER_UP>', '2: eth0@if2 veth mtu 1400 state UP link-netnsid 0 <BROADCAST,MULTICAST,UP,LOWER_UP>'],
      ],
    ])
  })

  test('host-gw (no overlay): pods bigger than the node NIC that carries them, named with the bridge and the NIC', () => {
    const hostGw = (mtus: Record<string, number>) => run(mtuMismatch, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), links: setMtu(withoutOverlay(flannelNode().links ?? ''), mtus)})]}))
    expect(hostGw({eth0: 1400, cbr0: 1500, 'veth-pod1': 1500}).findings).toEqual([
      {
        check: 'mtu-mismatch',
        severity: 'error',
        subject: {kind: 'node', name: 'node-1'},
        node: 'node-1',
        message: "pod bridge cbr0 has MTU 1500, more than eth0's 1400, which carries pod traffic to other nodes unencapsulated",
        evidence: [
          {source: 'node-1: ip -j -d link show', text: '3: cbr0 bridge mtu 1500 state UP <BROADCAST,MULTICAST,UP,LOWER_UP>'},
          {source: 'node-1: ip -j -d link show', text: '2: eth0@if2 veth mtu 1400 state UP link-netnsid 0 <BROADCAST,MULTICAST,UP,LOWER_UP>'},
        ],
      },
    ])
    // A pod veth bigger than its bridge is named itself.
    expect(hostGw({eth0: 1450, 'veth-pod1': 1500}).findings.map((f) => f.message)).toEqual(["pod veth veth-pod1 has MTU 1500, more than eth0's 1450, which carries pod traffic to other nodes unencapsulated"])
    // Pods at or below the NIC's MTU are fine (the fixture's 1450 under 1500, and equal).
    expect(hostGw({}).findings).toEqual([])
    expect(hostGw({cbr0: 1500, 'veth-pod1': 1500}).findings).toEqual([])
  })

  test("skips a node whose underlay it cannot find, with the reason, and still checks the others", () => {
    // No vxlan lower device, no address for its local IP, no default route: nothing to compare with.
    const lost = editJson(flannelNode().links ?? '', (l) => l.map((x) => (x.ifname === 'flannel.1' ? {...x, linkinfo: {info_kind: 'vxlan', info_data: {id: 1, port: 8472}}} : x)))
    const routes4 = editJson(flannelNode().routes4 ?? '', (r) => r.filter((x) => x.dst !== 'default'))
    const bad = nodeEvidence('node-2', {...flannelNode(), links: setMtu(flannelNode().links ?? '', {'flannel.1': 1500})})
    expect(run(mtuMismatch, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), links: lost, routes4}), bad]}))).toMatchObject({
      findings: [{node: 'node-2', message: "vxlan flannel.1 has MTU 1500, more than eth0's 1500 minus 50 bytes of encapsulation (1450)"}],
      skipped: [{check: 'mtu-mismatch', reason: 'underlay device of flannel.1 on node-1 not found'}],
    })
    const noOverlay = nodeEvidence('node-1', {...flannelNode(), links: withoutOverlay(flannelNode().links ?? ''), routes4, addrs: '[]'})
    expect(run(mtuMismatch, snapshotOf({nodes: [noOverlay]})).skipped).toEqual([
      {check: 'mtu-mismatch', reason: 'underlay device of node-1 not found (no interface with its InternalIP, no default route)'},
    ])
  })
})

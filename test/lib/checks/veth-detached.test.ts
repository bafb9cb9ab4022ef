import {describe, expect, test} from 'vitest'
import {vethDetached} from '../../../src/lib/checks/veth-detached.js'
import {editJson, flannelNode, nodeEvidence, run, snapshotOf} from './fixtures.js'
import {SCENARIOS} from './scenarios.js'

describe('veth-detached', () => {
  test('reports a pod veth without a master', () => {
    expect(run(vethDetached, (SCENARIOS['veth-detached'] as () => never)())).toEqual({
      findings: [
        {
          "check": "veth-detached",
          "severity": "error",
          "subject": {
            "kind": "node",
            "name": "node-1"
          },
          "node": "node-1",
          "message": "pod veth veth-pod1 is not attached to any bridge (pod bridge: cbr0)",
          "evidence": [
            {
              "source": "node-1: ip -j -d link show",
              "text": "4: veth-pod1@if2 veth mtu 1450 state UP link-netnsid 1 <BROADCAST,MULTICAST,UP,LOWER_UP>"
            }
          ]
        }
      ],
      skipped: [],
    })
  })

  test('a veth on no bridge that carries a /32 route to its pod is routed, not detached, whatever its name (kindnet/ptp next to a bridge)', () => {
    const base = flannelNode()
    const outputs = {
      ...base,
      links: editJson(base.links as string, (l) => l.map(({master: _m, ...x}) => x)),
      routes4: editJson(base.routes4 as string, (r) => [...r, {dst: '10.244.1.200', dev: 'veth-pod1', scope: 'host', flags: []}]),
    }
    expect(run(vethDetached, snapshotOf({nodes: [nodeEvidence('node-1', outputs)]})).findings).toEqual([])
  })

  test('a bridge-plugin veth (veth + 8 hex digits, as the CNI bridge plugin names them) off its bridge is detached (found on the real-Kubernetes lab)', () => {
    const base = flannelNode()
    const outputs = {
      ...base,
      links: editJson(base.links as string, (l) => l.map((x) => (x.ifname === 'veth-pod1' ? (({master: _m, ...y}) => ({...y, ifname: 'vethc8e7f8fc'}))(x) : x))),
    }
    const findings = run(vethDetached, snapshotOf({nodes: [nodeEvidence('node-1', outputs)]})).findings
    expect(findings.map((f) => f.message)).toEqual(['pod veth vethc8e7f8fc is not attached to any bridge (pod bridge: cbr0)'])
  })

  test('finds nothing on the healthy base', () => {
    expect(run(vethDetached, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('is skipped, with the reason, when its evidence is missing', () => {
    expect(run(vethDetached, snapshotOf({nodes: [nodeEvidence('node-1', {...flannelNode(), 'links': {status: 'failed', reason: 'permission denied'}})]}))).toEqual({findings: [], skipped: [{check: 'veth-detached', reason: "links failed on node-1 (permission denied)"}]})
  })
})

import {describe, expect, it} from 'vitest'
import {renderSnapshotSummary, type SnapshotSummary} from '../../../src/lib/render/snapshot-summary.js'

const base: SnapshotSummary = {
  schemaVersion: 1,
  file: 'x.json.gz',
  bytes: 2048,
  clusterSource: null,
  objects: {},
  nodes: [{name: 'vm', access: 'local:localhost', ok: 15, unavailable: ['ipvsadm'], failed: ['iptables-save'], timeout: []}],
  collectionErrors: [],
}

describe('snapshot summary', () => {
  it('names each node, what it lacks and what failed', () => {
    expect(renderSnapshotSummary(base)).toBe(
      ['wrote x.json.gz (2.0 KiB)', 'cluster: not gathered', 'node vm (local:localhost): 15 commands ok; unavailable: ipvsadm; failed: iptables-save'].join('\n'),
    )
  })

  it('gives one line per collection error and a root hint for permission failures', () => {
    const text = renderSnapshotSummary({
      ...base,
      collectionErrors: [
        {node: 'vm', source: 'iptables-save', kind: 'forbidden', message: 'iptables-save: permission denied: Permission denied (you must be root)'},
        {source: 'networkpolicies', kind: 'forbidden', message: 'list networkpolicies is forbidden'},
      ],
    })
    expect(text.split('\n').slice(3)).toEqual([
      '2 collection error(s):',
      '  vm: iptables-save: permission denied: Permission denied (you must be root)',
      '  networkpolicies: list networkpolicies is forbidden',
      'hint: netfilter, IPVS and conntrack evidence needs root (or CAP_NET_ADMIN): run knet with sudo',
    ])
  })
})

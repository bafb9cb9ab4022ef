import {describe, expect, test} from 'vitest'
import {readKubeProxyView, splitPortName} from '../../../src/lib/model/kube-proxy-view.js'
import {buildModel} from '../../../src/lib/model/model.js'
import {parseIptablesSave} from '../../../src/lib/parse/iptables-save.js'
import {DNS, KUBERNETES, kubeProxyRules, snapshotOf, WEB} from '../checks/fixtures.js'

describe('analysis model', () => {
  const model = buildModel(snapshotOf())

  test('carries the cluster, the nodes sorted by name and the collection errors', () => {
    expect(model.cluster?.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3'])
    expect(model.nodes.map((n) => n.name)).toEqual(['node-1'])
    expect(model.collectionErrors).toEqual([])
  })

  test('indexes are built once and shared', () => {
    expect(model.index.podsByIp()).toBe(model.index.podsByIp())
    expect(model.index.podsByIp().get('10.244.1.5')?.map((p) => p.name)).toEqual(['web-1'])
    expect(model.index.nodeByAddress().get('10.100.0.3')?.name).toBe('node-2')
    expect(model.index.serviceByKey().get('kube-system/kube-dns')?.clusterIPs).toEqual(['172.20.0.10'])
  })

  test('selector matching goes through the label index', () => {
    expect(model.index.selectPods('default', {app: 'web'}).map((p) => p.name)).toEqual(['web-1', 'web-2'])
    expect(model.index.selectPods('default', {app: 'web', tier: 'x'})).toEqual([])
    expect(model.index.selectPods('kube-system', {app: 'web'})).toEqual([])
  })

  test('a selection is made once per selector object, and one selector object in another namespace selects there', () => {
    const selector = {app: 'web'}
    const first = model.index.selectPods('default', selector)
    expect(model.index.selectPods('default', selector)).toBe(first)
    expect(model.index.selectPods('kube-system', selector)).toEqual([])
    expect(model.index.selectPods('default', selector).map((p) => p.name)).toEqual(['web-1', 'web-2'])
  })

  test("each node's kube-proxy view: Service port → DNAT targets, read from the chains", () => {
    const node = model.nodes[0]
    if (!node) throw new Error('no node')
    const view = model.index.kubeProxyView(node)
    expect(view?.ports.map((p) => [p.portName, p.protocol, p.clusterIP, p.targets.map((t) => `${t.ip}:${t.port}`)])).toEqual([
      ['default/kubernetes:https', 'tcp', '172.20.0.1', ['10.100.0.2:6443']],
      ['default/web:http', 'tcp', '172.20.0.50', ['10.244.1.5:8080', '10.244.2.7:8080']],
      ['kube-system/kube-dns:dns', 'udp', '172.20.0.10', ['10.244.2.3:53']],
    ])
    expect(model.index.kubeProxyView(node)).toBe(view)
    expect(model.index.observedKubeProxyMode(node)?.mode).toBe('iptables')
  })

  test('Service ports without endpoints show as REJECT rules', () => {
    const dump = parseIptablesSave(kubeProxyRules([KUBERNETES, {...WEB, endpoints: []}, DNS])).value
    const view = readKubeProxyView('node-1', 'node-1: iptables-save', dump)
    expect(view.noEndpoints.map((n) => n.portName)).toEqual(['default/web:http'])
    expect(view.byKey.has('default/web:http|tcp')).toBe(false)
  })

  test('splitPortName', () => {
    expect(splitPortName('ns/name:port')).toEqual({namespace: 'ns', name: 'name', port: 'port'})
    expect(splitPortName('ns/name')).toEqual({namespace: 'ns', name: 'name', port: ''})
    expect(splitPortName('nonsense')).toBeUndefined()
  })

  test('no cluster: empty indexes, no throw', () => {
    const bare = buildModel(snapshotOf({cluster: null}))
    expect(bare.cluster).toBeUndefined()
    expect(bare.index.podsByIp().size).toBe(0)
    expect(bare.index.selectPods('default', {a: 'b'})).toEqual([])
  })
})

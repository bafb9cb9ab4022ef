import {describe, expect, test} from 'vitest'
import {proxyArpOff} from '../../../src/lib/checks/proxy-arp-off.js'
import {nodeEvidence, run, snapshotOf} from './fixtures.js'
import {calicoNode, confLines, SCENARIOS, withCniDaemonSet} from './scenarios.js'

const PROXY_ARP = 'grep -r -H --include=proxy_arp . /proc/sys/net/ipv4/conf'

describe('proxy-arp-off', () => {
  test("reports the routed cali* veth of web-1 with proxy_arp=0, naming the node, the interface and the pod", () => {
    expect(run(proxyArpOff, (SCENARIOS['proxy-arp-off'] as () => never)())).toEqual({
      findings: [
        {
          check: 'proxy-arp-off',
          severity: 'error',
          subject: {kind: 'pod', namespace: 'default', name: 'web-1'},
          node: 'node-1',
          message:
            "proxy_arp is 0 on cali1f0a2b3c4d5, the routed host veth of pod default/web-1 (10.244.1.5): nothing answers the pod's ARP for its gateway 169.254.1.1, so it can send nothing",
          evidence: [
            {source: `node-1: ${PROXY_ARP}`, text: '/proc/sys/net/ipv4/conf/cali1f0a2b3c4d5/proxy_arp:0'},
            {source: `node-1: ${PROXY_ARP}`, text: '/proc/sys/net/ipv4/conf/all/proxy_arp:0'},
            {source: 'node-1: ip -j route show table all', text: '10.244.1.5 dev cali1f0a2b3c4d5 scope link'},
          ],
        },
      ],
      skipped: [],
    })
  })

  test('finds nothing on a healthy Calico node (proxy_arp=1 on every cali*), nor on the flannel base', () => {
    for (const cni of ['calico', 'none'] as const) expect(run(proxyArpOff, withCniDaemonSet(snapshotOf({nodes: [calicoNode()]}), cni))).toEqual({findings: [], skipped: []})
    expect(run(proxyArpOff, snapshotOf())).toEqual({findings: [], skipped: []})
  })

  test('conf.all.proxy_arp=1 covers every interface; a node owning 169.254.1.1 answers ARP for it itself', () => {
    const allOn = calicoNode((o) => (o['proxy-arp'] = confLines('proxy_arp', {all: 1, cali1f0a2b3c4d5: 0, cali9e8d7c6b5a4: 0})))
    expect(run(proxyArpOff, snapshotOf({nodes: [allOn]})).findings).toEqual([])
    const owns = calicoNode((o) => {
      o['proxy-arp'] = confLines('proxy_arp', {all: 0, cali1f0a2b3c4d5: 0, cali9e8d7c6b5a4: 0})
      o.addrs = (o.addrs as string).replace('"addr_info":[{"family":"inet","local":"127.0.0.1"', '"addr_info":[{"family":"inet","local":"169.254.1.1","prefixlen":32,"scope":"global"},{"family":"inet","local":"127.0.0.1"')
    })
    expect(run(proxyArpOff, snapshotOf({nodes: [owns]})).findings).toEqual([])
  })

  test('a pod the API does not list is named by its address; the subject is then the node', () => {
    const off = calicoNode((o) => (o['proxy-arp'] = confLines('proxy_arp', {all: 0, cali1f0a2b3c4d5: 1, cali9e8d7c6b5a4: 0})))
    expect(run(proxyArpOff, snapshotOf({nodes: [off]})).findings.map((f) => [f.subject, f.message])).toEqual([
      [{kind: 'node', name: 'node-1'}, "proxy_arp is 0 on cali9e8d7c6b5a4, the routed host veth of the pod at 10.244.1.6: nothing answers the pod's ARP for its gateway 169.254.1.1, so it can send nothing"],
    ])
  })

  test('an older snapshot without proxy_arp skips the Calico node with the reason; nodes without routed veths need nothing', () => {
    const {'proxy-arp': _gone, ...old} = Object.fromEntries(calicoNode().results.map((r) => [r.id, r.stdout]))
    expect(run(proxyArpOff, snapshotOf({nodes: [nodeEvidence('node-1', old)]}))).toEqual({
      findings: [],
      skipped: [{check: 'proxy-arp-off', reason: 'proxy-arp not in the snapshot (gathered by an older knet) on node-1, so its 2 routed pod veth(s) were not checked'}],
    })
    const failed = calicoNode((o) => Object.assign(o, {'proxy-arp': {status: 'failed', reason: 'permission denied'}}))
    expect(run(proxyArpOff, snapshotOf({nodes: [failed]})).skipped).toEqual([
      {check: 'proxy-arp-off', reason: 'proxy-arp failed on node-1 (permission denied), so its 2 routed pod veth(s) were not checked'},
    ])
  })

  test('is skipped, with the reason, when its required evidence is missing', () => {
    const noRoutes = calicoNode((o) => Object.assign(o, {routes4: {status: 'unavailable', reason: 'ip: command not found'}}))
    expect(run(proxyArpOff, snapshotOf({nodes: [noRoutes]}))).toEqual({findings: [], skipped: [{check: 'proxy-arp-off', reason: 'routes4 unavailable on node-1 (ip: command not found)'}]})
  })
})

import {describe, expect, test} from 'vitest'
import {runChecks, runDoctor} from '../../../src/lib/checks/context.js'
import {natStaleEndpoint} from '../../../src/lib/checks/nat-stale-endpoint.js'
import {ipForwardOff} from '../../../src/lib/checks/ip-forward-off.js'
import {CHECKS} from '../../../src/lib/checks/registry.js'
import {buildModel} from '../../../src/lib/model/model.js'
import {flannelNode, kubeProxyRules, KUBERNETES, DNS, WEB, nodeEvidence, run, snapshotOf} from './fixtures.js'

describe('check runner', () => {
  test('a per-node requirement skips only that node; the others are still checked', () => {
    const broken = {...flannelNode(), sysctls: flannelNode().sysctls?.replace('ip_forward:1', 'ip_forward:0') ?? ''}
    const snapshot = snapshotOf({
      nodes: [nodeEvidence('node-1', broken), nodeEvidence('node-2', {...flannelNode(), sysctls: {status: 'failed', reason: 'permission denied'}})],
    })
    const result = run(ipForwardOff, snapshot)
    expect(result.findings.map((f) => f.node)).toEqual(['node-1'])
    expect(result.skipped).toEqual([{check: 'ip-forward-off', reason: 'sysctls failed on node-2 (permission denied)'}])
  })

  test('NAT checks read an IPVS-mode node from ipvsadm, and skip it with that reason when ipvsadm was not gathered', () => {
    // The ConfigMap says ipvs and node-1 shows kube-ipvs0 and no KUBE-SVC chains.
    const links = JSON.stringify([...JSON.parse(flannelNode().links ?? '[]'), {ifindex: 10, ifname: 'kube-ipvs0', flags: ['BROADCAST', 'NOARP'], mtu: 1500, operstate: 'DOWN', linkinfo: {info_kind: 'dummy'}}])
    const snapshot = snapshotOf({
      cluster: {kubeProxyMode: 'ipvs'},
      nodes: [nodeEvidence('node-1', {...flannelNode(), links, 'iptables-save': '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n'})],
    })
    expect(run(natStaleEndpoint, snapshot)).toEqual({
      findings: [],
      skipped: [{check: 'nat-stale-endpoint', reason: 'ipvsadm not in the snapshot on node-1 (kube-proxy ipvs mode)'}],
    })
  })

  test('no node evidence at all: node checks say so', () => {
    expect(run(ipForwardOff, snapshotOf({nodes: []}))).toEqual({
      findings: [],
      skipped: [{check: 'ip-forward-off', reason: 'no node datapath evidence in the snapshot (gathered with --node-access none?)'}],
    })
  })

  test('collection errors pass through to the report and never become findings', () => {
    const error = {node: 'node-2', source: 'node-access', kind: 'not-found', message: 'no network namespace mapped for node node-2 (--netns-map)'}
    const report = runDoctor(snapshotOf({collectionErrors: [error]}), CHECKS)
    expect(report.findings).toEqual([])
    expect(report.collectionErrors).toEqual([error])
    expect(report.checks).toBe(CHECKS.length)
    expect(report.nodes).toBe(1)
  })

  test('findings are sorted: severity, then check id, subject, node', () => {
    const snapshot = snapshotOf({
      cluster: {services: undefined},
      nodes: [
        nodeEvidence('node-1', {
          ...flannelNode(),
          sysctls: flannelNode().sysctls?.replace('ip_forward:1', 'ip_forward:0') ?? '',
          'iptables-save': kubeProxyRules([KUBERNETES, WEB, DNS, {...WEB, name: 'old', clusterIP: '172.20.0.99', endpoints: [{ip: '10.244.3.3'}]}]),
        }),
      ],
    })
    const report = runChecks(buildModel(snapshot), CHECKS)
    expect(report.findings.map((f) => [f.severity, f.check])).toEqual([
      ['error', 'ip-forward-off'],
      ['warn', 'nat-orphan-service'],
    ])
  })
})

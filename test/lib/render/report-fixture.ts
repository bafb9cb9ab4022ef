/** A small fixed doctor report for the render tests: two findings, one skip, one collection error. */
import {CHECKS} from '../../../src/lib/checks/registry.js'
import type {DoctorReport} from '../../../src/lib/report/report.js'

export const SMALL_REPORT: DoctorReport = {
  findings: [
    {
      check: 'route-nexthop-wrong',
      severity: 'error',
      subject: {kind: 'node', name: 'node-1'},
      node: 'node-1',
      message: "VXLAN traffic for node-3's pod CIDR 10.244.3.0/24 is sent to VTEP 10.100.0.9, which is no node's address",
      evidence: [{source: 'node-1: bridge -j fdb show', text: '0a:00:00:00:03:00 dev flannel.1 dst 10.100.0.9 self permanent'}],
    },
    {
      check: 'service-selector-matches-nothing',
      severity: 'warn',
      subject: {kind: 'service', namespace: 'default', name: 'web'},
      message: 'selector app=wbe matches none of the 2 pods in namespace default',
      evidence: [{source: 'api: Service default/web spec.selector', text: 'app=wbe'}],
    },
    {
      check: 'netpol-isolates',
      severity: 'info',
      subject: {kind: 'networkpolicy', namespace: 'default', name: 'default-deny'},
      message: 'default-deny ingress for 2 pod(s) in default: web-1, web-2',
      evidence: [{source: 'api: NetworkPolicy default/default-deny spec.ingress', text: '[]'}],
    },
  ],
  skipped: [{check: 'conntrack-stale', reason: 'conntrack unavailable on node-1 (conntrack: command not found)'}],
  collectionErrors: [{node: 'node-2', source: 'iptables-save', kind: 'forbidden', message: 'iptables-save: permission denied'}],
  checks: 4,
  nodes: 2,
}

export const SMALL_CHECKS = CHECKS.filter((c) => ['route-nexthop-wrong', 'service-selector-matches-nothing', 'netpol-isolates', 'conntrack-stale'].includes(c.id))

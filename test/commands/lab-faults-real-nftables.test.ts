/**
 * The real-lab fault suite (test/lib/lab/real-faults-suite.ts) with kube-proxy in nftables mode
 * (flannel vxlan), where trace evaluates kube-proxy's nft table: every Service pair kind traced and
 * compared with the real probe on the healthy lab — pod → ClusterIP (tcp, udp), a NodePort through
 * each node's IP, a Service without endpoints (kube-proxy's reject), externalTrafficPolicy Local
 * through a node with and one without a local endpoint — and doctor clean; then stale-nat and
 * missing-nat, doctor naming each with kube-proxy's nft rule or map as evidence, and forward-drop
 * (a node check next to kube-proxy's own filter chains). Root only, where the real programs are.
 *
 * The lab's plan has no externalTrafficPolicy Local Service; this file adds one through the API
 * once the lab is up: web-local, a NodePort next to web-np's with endpoints on node-1 only, so
 * node-2 has none. Its endpoints are one EndpointSlice written as a controller outside Kubernetes
 * would (the Service has no selector, as the plan's `empty`): every pod of the plan carries the
 * same labels on both nodes, so no selector picks one node's pods.
 */
import {KnetError} from '../../src/lib/report/errors.js'
import {proxyRuleset, realLabOf, waitUntil} from '../../src/lib/lab/faults/real.js'
import type {LabPlan} from '../../src/lib/lab/plan.js'
import {labApi, type Obj} from '../../src/lib/lab/real/api.js'
import {addr, nodeIp, nodePortOf, pod, REAL_CASES, realFaultsSuite, svc, type FaultCase, type Pair, type RealLabHandle} from '../lib/lab/real-faults-suite.js'

const LOCAL = 'web-local'
/** The pod web-local's one endpoint is (on node-1). */
const LOCAL_POD = 'web-1-1'

/** web-np's NodePort + 1: free, and in the API server's NodePort range. */
function localNodePort(plan: LabPlan): number {
  return Number(nodePortOf(plan, 'web-np', 'node-1').split(':')[1]) + 1
}

async function addLocalService(lab: RealLabHandle): Promise<void> {
  const state = await lab.state()
  const real = realLabOf(state)
  if (!real || !state.kubeconfig) throw new KnetError('bad-input', `lab ${lab.name} is not a real lab`)
  const plan = await lab.plan()
  const api = labApi(state.kubeconfig)
  const nodePort = localNodePort(plan)
  const endpoint = plan.pods.find((p) => p.name === LOCAL_POD)
  if (!endpoint) throw new Error(`no pod ${LOCAL_POD} in the realised plan`)
  await api.ensure({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {name: LOCAL, namespace: 'default'},
    spec: {type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort}]},
  } as Obj)
  await api.ensure({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {name: `${LOCAL}-1`, namespace: 'default', labels: {'kubernetes.io/service-name': LOCAL, 'endpointslice.kubernetes.io/managed-by': 'lab.knet.dev'}},
    addressType: 'IPv4',
    endpoints: [{addresses: [endpoint.ip], conditions: {ready: true, serving: true, terminating: false}, nodeName: endpoint.node, targetRef: {kind: 'Pod', namespace: 'default', name: endpoint.name}}],
    ports: [{name: 'http', port: 8080, protocol: 'TCP'}],
  } as Obj)
  // Programmed once every node's kube-proxy has the NodePort (node-2 as a drop: no local endpoint).
  await waitUntil(`every node's kube-proxy to program ${LOCAL}`, async () => {
    const lacking: string[] = []
    for (const n of plan.nodes) if (!(await proxyRuleset(real, n)).includes(`tcp . ${nodePort}`)) lacking.push(`kube-proxy on ${n.name} has no rule for NodePort ${nodePort}`)
    return lacking
  })
}

/** Every Service pair kind, traced and probed on the healthy lab. */
function servicePairs(plan: LabPlan): Pair[] {
  const local = (node: string): string => `${nodeIp(plan, node)}:${localNodePort(plan)}`
  return [
    pod('web-1-1', 'web-2-2', 'delivered', 'icmp'),
    svc('web-2-1', 'web', 'delivered'),
    {...svc('web-1-1', 'dns', 'delivered'), trace: ['web-1-1', 'svc/default/dns', '--protocol', 'udp']},
    addr('web-2-1', nodePortOf(plan, 'web-np', 'node-1'), 'delivered'),
    // No endpoints: kube-proxy's no-endpoint-services map rejects it (a TCP reset, not a timeout).
    {...svc('web-1-1', 'empty', 'dropped'), observed: 'refused', code: 'netfilter-reject'},
    // externalTrafficPolicy Local: node-1 has the endpoint; node-2 drops what is not from its own pods.
    addr('web-2-2', local('node-1'), 'delivered'),
    {...addr('web-1-1', local('node-2'), 'dropped'), code: 'netfilter-drop'},
    // A pod's own node short-circuits to the Service's endpoints wherever they are.
    addr('web-2-1', local('node-2'), 'delivered'),
  ]
}

/** The nft rule (`ip kube-proxy CHAIN handle N: …`) or map element, as doctor quotes kube-proxy's nftables. */
const NFT_DNAT = /^ip kube-proxy \S+ handle \d+: .*\bdnat ip (addr \. port )?to .*\b\d+\.\d+\.\d+\.\d+ \. \d+/
const NFT_MAP = /^no element \{ [\d.]+ \. tcp \. 80 \} in map ip kube-proxy service-ips \(default\/web-new:http\)$/

const cases: Record<string, FaultCase> = {
  'stale-nat': {...(REAL_CASES['stale-nat'] as FaultCase), doctor: {check: 'nat-stale-endpoint', node: 'node-1', evidence: NFT_DNAT}},
  'missing-nat': {
    code: 'nat-missing-service',
    doctor: {check: 'nat-missing-service', node: 'node-1', evidence: NFT_MAP},
    // In nftables mode node-1's own table drops the ClusterIP it does not know ("Drop traffic to
    // unallocated ClusterIPs"): the packet never leaves, a timeout rather than the router's error.
    pairs: () => [svc('web-1-1', 'web-new', 'dropped'), svc('web-2-1', 'web-new', 'delivered'), svc('web-1-1', 'web', 'delivered'), pod('web-1-1', 'web-2-1', 'delivered')],
  },
}


realFaultsSuite({tag: 'rfnf', topology: 'vxlan', proxyMode: 'nftables', faults: ['stale-nat', 'missing-nat', 'forward-drop'], cases, setup: addLocalService, healthyPairs: servicePairs})

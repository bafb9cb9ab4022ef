import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {objectsFromYamlFile} from '../../../src/lib/apiserver/load.js'
import {startApiServer} from '../../../src/lib/apiserver/server.js'
import {emptyObjects, type ClusterEvidence} from '../../../src/lib/gather/cluster/evidence.js'
import {gatherCluster, loadObjectsFile} from '../../../src/lib/gather/cluster/gather.js'
import {buildClusterModel, type ClusterModel} from '../../../src/lib/model/cluster.js'

const FIXTURES = join(import.meta.dirname, '../../fixtures/cluster')

function evidence(objects: Partial<ClusterEvidence['objects']>, errors: ClusterEvidence['errors'] = []): ClusterEvidence {
  return {source: 'objects-file', objects: {...emptyObjects(), ...objects}, ignoredKinds: {}, errors}
}

async function fromApi(file: string): Promise<ClusterModel> {
  const dir = mkdtempSync(join(tmpdir(), 'knet-model-'))
  const server = await startApiServer({objects: objectsFromYamlFile(file), tls: 'self-signed', token: 't'})
  try {
    return buildClusterModel(await gatherCluster({kubeconfig: server.writeKubeconfig(join(dir, 'kc')), timeoutMs: 60_000, pageSize: 2}))
  } finally {
    await server.close()
    rmSync(dir, {recursive: true, force: true})
  }
}

describe('buildClusterModel on the 3-node kubeadm fixture (through the API)', () => {
  it('models nodes, pods, Services, EndpointSlices, policies, CNI, kube-proxy and CIDRs', async () => {
    const model = await fromApi(join(FIXTURES, 'kubeadm-3node.yaml'))
    expect(model.nodes.map((n) => [n.name, n.internalIPs, n.podCIDRs, n.ready, n.taints.map((t) => `${t.key}:${t.effect}`)])).toEqual([
      ['cp-1', ['192.168.56.10'], ['10.244.0.0/24'], 'True', ['node-role.kubernetes.io/control-plane:NoSchedule']],
      ['worker-1', ['192.168.56.11'], ['10.244.1.0/24'], 'True', []],
      ['worker-2', ['192.168.56.12'], ['10.244.2.0/24'], 'Unknown', ['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']],
    ])
    expect(model.pods.find((p) => p.name === 'kube-proxy-8tq2w')).toEqual({
      namespace: 'kube-system',
      name: 'kube-proxy-8tq2w',
      labels: {'k8s-app': 'kube-proxy', 'controller-revision-hash': '6d4b9c7f8c', 'pod-template-generation': '1'},
      podIPs: ['192.168.56.11'],
      hostIP: '192.168.56.11',
      node: 'worker-1',
      hostNetwork: true,
      phase: 'Running',
      containers: [{name: 'kube-proxy', ports: []}],
    })
    expect(model.pods.find((p) => p.name === 'db-0')?.containers).toEqual([{name: 'postgres', ports: [{name: 'pg', containerPort: 5432, protocol: 'TCP'}]}])
    expect(model.pods.find((p) => p.name === 'batch-28829160-x7k2m')).toMatchObject({podIPs: [], phase: 'Pending', hostNetwork: false})
    expect(model.services.find((s) => s.name === 'web')).toEqual({
      namespace: 'shop',
      name: 'web',
      labels: {},
      type: 'NodePort',
      clusterIPs: ['10.103.44.21'],
      headless: false,
      ipFamilies: ['IPv4'],
      ports: [{name: 'http', port: 80, targetPort: 'http', nodePort: 30080, protocol: 'TCP'}],
      selector: {app: 'web'},
      externalTrafficPolicy: 'Local',
      internalTrafficPolicy: 'Cluster',
      sessionAffinity: 'ClientIP',
      externalIPs: ['192.168.56.200'],
      loadBalancerIngress: [],
    })
    expect(model.services.find((s) => s.name === 'db')).toMatchObject({headless: true, clusterIPs: []})
    expect(model.endpointSlices.find((s) => s.name === 'web-q9z8w')).toEqual({
      namespace: 'shop',
      name: 'web-q9z8w',
      serviceName: 'web',
      addressType: 'IPv4',
      endpoints: [
        {addresses: ['10.244.1.7'], ready: true, serving: true, terminating: false, nodeName: 'worker-1', targetRef: {kind: 'Pod', namespace: 'shop', name: 'web-5d8f7b9c6-abcde'}},
        {addresses: ['10.244.2.5'], ready: false, serving: false, terminating: false, nodeName: 'worker-2', targetRef: {kind: 'Pod', namespace: 'shop', name: 'web-5d8f7b9c6-fghij'}},
      ],
      ports: [{name: 'http', port: 8080, protocol: 'TCP'}],
    })
    expect(model.networkPolicies?.find((p) => p.name === 'db-from-web')).toEqual({
      namespace: 'shop',
      name: 'db-from-web',
      podSelector: {matchLabels: {app: 'db'}, matchExpressions: []},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          ports: [{protocol: 'TCP', port: 5432}],
          peers: [
            {podSelector: {matchLabels: {app: 'web'}, matchExpressions: []}},
            {
              namespaceSelector: {matchLabels: {'kubernetes.io/metadata.name': 'ops'}, matchExpressions: []},
              podSelector: {matchLabels: {}, matchExpressions: [{key: 'role', operator: 'In', values: ['backup']}]},
            },
          ],
        },
      ],
      egress: [
        {
          ports: [
            {protocol: 'TCP', port: 'pg'},
            {protocol: 'TCP', port: 32000, endPort: 32768},
          ],
          peers: [{ipBlock: {cidr: '10.0.0.0/8', except: ['10.96.0.0/12']}}],
        },
      ],
    })
    expect(model.networkPolicies?.find((p) => p.name === 'default-deny-ingress')).toMatchObject({policyTypes: ['Ingress'], ingress: [], egress: []})
    expect(model.cni).toEqual({
      cni: 'calico',
      evidence: 'DaemonSet kube-system/calico-node',
      kubeProxy: true,
      matches: [{cni: 'calico', daemonSet: 'calico-node', namespace: 'kube-system'}],
    })
    expect(model.namespaces).toEqual([
      {name: 'default', labels: {'kubernetes.io/metadata.name': 'default'}},
      {name: 'kube-system', labels: {'kubernetes.io/metadata.name': 'kube-system'}},
      {name: 'ops', labels: {'kubernetes.io/metadata.name': 'ops', 'pod-security.kubernetes.io/enforce': 'baseline'}},
      {name: 'shop', labels: {'kubernetes.io/metadata.name': 'shop', team: 'payments'}},
    ])
    expect(model.kubeProxy).toEqual({
      present: true,
      mode: 'iptables',
      modeDefaulted: true,
      clusterCIDRs: ['10.244.0.0/16'],
      source: 'ConfigMap kube-system/kube-proxy config.conf',
    })
    expect(model.cidrs).toEqual({
      podFromKubeProxy: ['10.244.0.0/16'],
      podFromNodes: [
        {node: 'cp-1', cidr: '10.244.0.0/24'},
        {node: 'worker-1', cidr: '10.244.1.0/24'},
        {node: 'worker-2', cidr: '10.244.2.0/24'},
      ],
      kubernetesServiceIPs: ['10.96.0.1'],
      service: [],
      serviceAssumed: {cidr: '10.96.0.0/12', reason: 'the kubernetes Service has 10.96.0.1, the first address of this common default range'},
    })
    expect(model.serverVersion?.gitVersion).toBe('v1.31.2')
    expect(model.problems).toEqual([])
  })
})

describe('--objects and the API path build the same model', () => {
  it('for the kubectl get … -A -o yaml dump (kind, EKS and GKE shapes)', async () => {
    const file = join(FIXTURES, 'kubectl-get-all.yaml')
    const viaApi = await fromApi(file)
    const viaFile = buildClusterModel(await loadObjectsFile(file))
    const comparable = (m: ClusterModel): Partial<ClusterModel> => {
      const {serverVersion: _v, collectionErrors: _e, ...rest} = m
      return rest
    }
    expect(comparable(viaFile)).toEqual(comparable(viaApi))
    expect(viaFile.nodes.map((n) => [n.name, n.podCIDRs, n.providerID, n.ready])).toEqual([
      ['gke-prod-default-pool-1a2b3c4d-x7k2', ['10.52.1.0/24'], 'gce://prod-project/europe-west1-b/gke-prod-default-pool-1a2b3c4d-x7k2', 'False'],
      ['ip-192-168-12-34.eu-west-1.compute.internal', [], 'aws:///eu-west-1a/i-0a1b2c3d4e5f60718', 'True'],
      ['kind-control-plane', ['10.244.0.0/24'], 'kind://docker/kind/kind-control-plane', 'True'],
      ['kind-worker', ['10.244.1.0/24'], 'kind://docker/kind/kind-worker', 'True'],
    ])
    expect(viaFile.services.find((s) => s.name === 'frontend')).toMatchObject({
      clusterIPs: ['10.96.200.7', 'fd00:10:96::c8'],
      ipFamilies: ['IPv4', 'IPv6'],
      internalTrafficPolicy: 'Local',
      loadBalancerIngress: [{ip: '34.77.12.9'}],
    })
    expect(viaFile.services.find((s) => s.name === 'checkout')?.loadBalancerIngress).toEqual([{hostname: 'a1b2c3d4e5f6-0123456789.elb.eu-west-1.amazonaws.com'}])
    expect(viaFile.services.find((s) => s.name === 'legacy-db')).toMatchObject({type: 'ExternalName', externalName: 'db.legacy.example.com', clusterIPs: []})
    expect(viaFile.pods.find((p) => p.name === 'frontend-7d9f8b6c5-qp2lm')?.podIPs).toEqual(['10.52.1.5', 'fd00:10:52:1::5'])
    // No DaemonSets in this dump: the CNI is unknown, not "none".
    expect(viaFile.cni).toBeUndefined()
    expect(viaFile.kubeProxy).toEqual({modeDefaulted: false, clusterCIDRs: []})
  })
})

describe('buildClusterModel tolerance', () => {
  it('records odd objects as problems instead of throwing', () => {
    const model = buildClusterModel(
      evidence({
        nodes: [null, {metadata: {name: 'n1'}, spec: {podCIDR: '10.1.0.0/24'}, status: 'weird'}],
        pods: [{metadata: {name: 'p', namespace: 'x'}, spec: {containers: [{name: 'c', ports: [{containerPort: 'eighty'}]}]}}],
        services: [{metadata: {name: 's', namespace: 'x'}, spec: {type: 'Fancy', ports: [{port: 80}, {name: 'noport'}]}}],
        endpointSlices: ['nope'],
        networkPolicies: [{metadata: {name: 'np', namespace: 'x'}, spec: {egress: []}}],
      }),
    )
    expect(model.nodes).toEqual([
      {name: 'n1', namespace: '', labels: {}, addresses: [], internalIPs: [], podCIDRs: ['10.1.0.0/24'], ready: 'Unknown', taints: [], unschedulable: false},
    ])
    expect(model.services[0]).toMatchObject({type: 'ClusterIP', ports: [{port: 80, targetPort: 80, protocol: 'TCP'}], sessionAffinity: 'None'})
    expect(model.networkPolicies?.[0]?.policyTypes).toEqual(['Ingress', 'Egress'])
    expect(model.problems).toEqual([
      {subject: 'nodes[0]', message: 'node without metadata.name ignored'},
      {subject: 'service x/s', message: 'unknown type "Fancy" read as ClusterIP'},
      {subject: 'service x/s', message: 'port without a number ignored'},
      {subject: 'pod x/p', message: 'container c: port without a numeric containerPort ignored'},
      {subject: 'endpointSlices[0]', message: 'EndpointSlice without metadata.name ignored'},
    ])
  })

  it('leaves networkPolicies and cni undefined when they could not be gathered', () => {
    const model = buildClusterModel(
      evidence({}, [
        {source: 'networkpolicies', kind: 'forbidden', message: 'not allowed to list networkpolicies.networking.k8s.io at the cluster scope'},
        {source: 'daemonsets', kind: 'forbidden', message: 'not allowed to list daemonsets.apps in the namespace "kube-system"'},
      ]),
    )
    expect(model.networkPolicies).toBeUndefined()
    expect(model.cni).toBeUndefined()
    expect(model.collectionErrors.map((e) => e.source)).toEqual(['networkpolicies', 'daemonsets'])
  })

  it('reads ipvs mode and a dual-stack clusterCIDR from the kube-proxy config', () => {
    const model = buildClusterModel(
      evidence({
        kubeProxyConfigMap: {metadata: {name: 'kube-proxy', namespace: 'kube-system'}, data: {'config.conf': 'mode: ipvs\nclusterCIDR: 10.244.0.0/16,fd00:10:244::/56\n'}},
      }),
    )
    expect(model.kubeProxy).toEqual({
      mode: 'ipvs',
      modeDefaulted: false,
      clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'],
      source: 'ConfigMap kube-system/kube-proxy config.conf',
    })
  })
})

describe('Service ranges', () => {
  const kubernetes = {apiVersion: 'v1', kind: 'Service', metadata: {name: 'kubernetes', namespace: 'default'}, spec: {clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{port: 443}]}}
  const serviceCIDR = (name: string, cidrs: unknown[]) => ({apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR', metadata: {name}, spec: {cidrs}})

  it('come from ServiceCIDR objects, both families, and then nothing is assumed', () => {
    const model = buildClusterModel(
      evidence({services: [kubernetes], serviceCIDRs: [serviceCIDR('kubernetes', ['10.96.0.0/16', 'fd00:10:96::/112']), serviceCIDR('extra', ['10.97.0.0/24']), serviceCIDR('bad', ['10.98.0.0', 7])]}),
    )
    expect(model.cidrs.service).toEqual([
      {cidr: '10.97.0.0/24', serviceCIDR: 'extra', field: 'spec.cidrs[0]'},
      {cidr: '10.96.0.0/16', serviceCIDR: 'kubernetes', field: 'spec.cidrs[0]'},
      {cidr: 'fd00:10:96::/112', serviceCIDR: 'kubernetes', field: 'spec.cidrs[1]'},
    ])
    expect(model.cidrs.serviceAssumed).toBeUndefined()
    expect(model.problems).toEqual([
      {subject: 'ServiceCIDR bad', message: 'spec.cidrs[0] "10.98.0.0" is not a CIDR'},
      {subject: 'ServiceCIDR bad', message: 'spec.cidrs[1] 7 is not a CIDR'},
    ])
  })

  it('without ServiceCIDRs (older clusters, older snapshots, none listed) the guess stays', () => {
    for (const serviceCIDRs of [undefined, []]) {
      const model = buildClusterModel(evidence({services: [kubernetes], ...(serviceCIDRs ? {serviceCIDRs} : {})}))
      expect(model.cidrs.service).toEqual([])
      expect(model.cidrs.serviceAssumed?.cidr).toBe('10.96.0.0/12')
    }
  })
})

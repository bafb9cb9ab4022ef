import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {loadObjectsFile} from '../../../../src/lib/gather/cluster/gather.js'
import {objectsFromText} from '../../../../src/lib/gather/cluster/objects-file.js'
import {KnetError} from '../../../../src/lib/report/errors.js'

const DUMP = join(import.meta.dirname, '../../../fixtures/cluster/kubectl-get-all.yaml')

const names = (list: unknown[]): string[] => list.map((o) => (o as {metadata: {name: string}}).metadata.name)

describe('--objects: kubectl output as cluster state', () => {
  it('reads the kubectl List dump, counting kinds it does not use and dropping Secrets', async () => {
    const evidence = await loadObjectsFile(DUMP)
    expect(evidence.source).toBe('objects-file')
    expect(evidence.file).toBe(DUMP)
    expect(names(evidence.objects.nodes)).toEqual([
      'kind-control-plane',
      'kind-worker',
      'ip-192-168-12-34.eu-west-1.compute.internal',
      'gke-prod-default-pool-1a2b3c4d-x7k2',
    ])
    expect(evidence.objects.pods).toHaveLength(4)
    expect(evidence.objects.services).toHaveLength(4)
    expect(evidence.objects.endpointSlices).toHaveLength(3)
    expect(evidence.objects.networkPolicies).toHaveLength(2)
    expect(evidence.objects.daemonSets).toEqual([])
    expect(evidence.objects.kubeProxyConfigMap).toBeNull()
    expect(evidence.ignoredKinds).toEqual({Secret: 1, Endpoints: 1})
    expect(evidence.errors).toEqual([])
    expect(JSON.stringify(evidence)).not.toContain('LS0tLS1CRUdJTi0tLS0t')
  })

  it('strips managedFields and the last-applied annotation, keeping other annotations', async () => {
    const evidence = await loadObjectsFile(DUMP)
    const cp = evidence.objects.nodes[0] as {metadata: Record<string, unknown>}
    expect(cp.metadata.managedFields).toBeUndefined()
    expect(cp.metadata.annotations).toEqual({
      'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///run/containerd/containerd.sock',
      'node.alpha.kubernetes.io/ttl': '0',
      'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
    })
    const checkout = evidence.objects.pods.find((p) => names([p])[0] === 'checkout-0') as {metadata: {annotations: unknown}}
    expect(checkout.metadata.annotations).toEqual({'vpc.amazonaws.com/pod-ips': '192.168.12.77'})
  })

  it('reads the same objects as JSON (kubectl -o json List), as a JSON array, and from stdin', async () => {
    const fromYaml = await loadObjectsFile(DUMP)
    const list = {apiVersion: 'v1', kind: 'List', metadata: {resourceVersion: ''}, items: [...fromYaml.objects.nodes, ...fromYaml.objects.pods]}
    const asList = objectsFromText(JSON.stringify(list, null, 4), 'x.json')
    expect(asList.objects.nodes).toEqual(fromYaml.objects.nodes)
    expect(asList.objects.pods).toEqual(fromYaml.objects.pods)
    const asArray = objectsFromText(JSON.stringify(list.items), 'x.json')
    expect(asArray.objects.pods).toEqual(fromYaml.objects.pods)
    const fromStdin = await loadObjectsFile('-', Readable.from([readFileSync(DUMP)]))
    expect(fromStdin.file).toBe('(stdin)')
    expect(fromStdin.objects).toEqual(fromYaml.objects)
  })

  it('reports malformed documents by index and loads the rest', () => {
    const text = [
      'apiVersion: v1\nkind: Node\nmetadata: {name: a}',
      'apiVersion: v1\nkind: Pod\nmetadata: {namespace: x}',
      'just a string',
      'apiVersion: v1\nkind: Node\nmetadata: {name: [unclosed',
      'kind: Pod\nmetadata: {name: p}',
      'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: s, namespace: default}\n- 42',
      '',
    ].join('\n---\n')
    const evidence = objectsFromText(text, 'mixed.yaml')
    expect(names(evidence.objects.nodes)).toEqual(['a'])
    expect(names(evidence.objects.services)).toEqual(['s'])
    expect(evidence.errors).toEqual([
      {source: 'objects[1]', kind: 'bad-input', message: 'Pod without metadata.name'},
      {source: 'objects[2]', kind: 'bad-input', message: 'not a Kubernetes object (expected a mapping with apiVersion and kind)'},
      {source: 'objects[3]', kind: 'bad-input', message: expect.stringMatching(/^not valid YAML or JSON: /) as unknown as string},
      {source: 'objects[4]', kind: 'bad-input', message: 'missing apiVersion or kind'},
      {source: 'objects[6]', kind: 'bad-input', message: 'not a Kubernetes object (expected a mapping with apiVersion and kind)'},
    ])
  })

  it('keeps DaemonSets, Namespaces and only the kube-proxy ConfigMap, as the API path does', () => {
    const text = [
      'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: cilium, namespace: kube-system}',
      'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: fluent-bit, namespace: logging}',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-proxy, namespace: kube-system}\ndata: {config.conf: "mode: ipvs"}',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: coredns, namespace: kube-system}',
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: logging, labels: {team: obs}}',
    ].join('\n---\n')
    const evidence = objectsFromText(text, 'f.yaml')
    expect(names(evidence.objects.daemonSets)).toEqual(['cilium', 'fluent-bit'])
    expect(names([evidence.objects.kubeProxyConfigMap])).toEqual(['kube-proxy'])
    expect(names(evidence.objects.namespaces ?? [])).toEqual(['logging'])
    expect(evidence.ignoredKinds).toEqual({ConfigMap: 1})
  })

  it('keeps ServiceCIDRs (kubectl get servicecidrs, Kubernetes 1.33+); a dump without them has none', () => {
    const text = 'apiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata: {name: kubernetes}\nspec: {cidrs: [10.96.0.0/16, "fd00:10:96::/112"]}'
    expect(objectsFromText(text, 'f.yaml').objects.serviceCIDRs).toEqual([{apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR', metadata: {name: 'kubernetes'}, spec: {cidrs: ['10.96.0.0/16', 'fd00:10:96::/112']}}])
    expect(objectsFromText('apiVersion: v1\nkind: Namespace\nmetadata: {name: a}', 'f.yaml').objects.serviceCIDRs).toBeUndefined()
  })

  it("keeps Calico's IPAMBlocks (kubectl get ipamblocks.crd.projectcalico.org); a dump without them has none", () => {
    const text = 'apiVersion: crd.projectcalico.org/v1\nkind: IPAMBlock\nmetadata: {name: 10-244-1-0-26}\nspec: {cidr: 10.244.1.0/26, affinity: "host:node-1", deleted: false}'
    expect(objectsFromText(text, 'f.yaml').objects.ipamBlocks).toEqual([
      {apiVersion: 'crd.projectcalico.org/v1', kind: 'IPAMBlock', metadata: {name: '10-244-1-0-26'}, spec: {cidr: '10.244.1.0/26', affinity: 'host:node-1', deleted: false}},
    ])
    expect(objectsFromText('apiVersion: v1\nkind: Namespace\nmetadata: {name: a}', 'f.yaml').objects.ipamBlocks).toBeUndefined()
  })

  it('a missing file or a file with nothing usable is bad input (exit 2)', async () => {
    const missing = await loadObjectsFile('/nonexistent/objects.yaml').catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(KnetError)
    expect((missing as KnetError).oneLine()).toBe(
      '--objects: cannot read /nonexistent/objects.yaml (ENOENT) (give a file written by `kubectl get … -o yaml`, or - for stdin)',
    )
    const garbage = await loadObjectsFile('-', Readable.from(['{not json: [}'])).catch((e: unknown) => e)
    expect((garbage as KnetError).kind).toBe('bad-input')
    expect((garbage as KnetError).exitCode).toBe(2)
    expect((garbage as KnetError).message).toMatch(/^--objects \(stdin\): no Kubernetes objects could be read \(objects\[0\]: not valid YAML or JSON: /)
  })
})

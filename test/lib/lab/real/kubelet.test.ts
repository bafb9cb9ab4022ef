import {describe, expect, it} from 'vitest'
import {planLab} from '../../../../src/lib/lab/plan.js'
import {cniEnv, parseCniResult, pluginConfig} from '../../../../src/lib/lab/real/cni.js'
import {leaseManifest, microTime, nodeManifest, podRunningPatch, responderPid} from '../../../../src/lib/lab/real/kubelet-status.js'
import {flannelRbac, podManifest, serviceManifest} from '../../../../src/lib/lab/real/manifests.js'
import {listenersOf} from '../../../../src/lib/lab/real/pod-sandbox.js'
import {dnatTargets, expectedDnatTargets, missingEndpoints} from '../../../../src/lib/lab/real/readiness.js'
import {parseVtepMac} from '../../../../src/lib/lab/real/flannel-annotations.js'

const plan = planLab({name: 'k', nodes: 2, podsPerNode: 1, topology: 'host-gw'})

describe('CNI protocol', () => {
  const request = {command: 'ADD' as const, containerId: 'uid-1', podNetns: 'knetlab-k-n1-p1', ifname: 'eth0', podNamespace: 'default', podName: 'web-1-1', podUid: 'uid-1', binDir: '/k8s/bin'}

  it('puts the call in CNI_* variables', () => {
    expect(cniEnv(request, {PATH: '/usr/bin', HOME: '/root'})).toEqual({
      PATH: '/usr/bin',
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'uid-1',
      CNI_NETNS: '/run/netns/knetlab-k-n1-p1',
      CNI_IFNAME: 'eth0',
      CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-1-1;K8S_POD_INFRA_CONTAINER_ID=uid-1;K8S_POD_UID=uid-1',
      CNI_PATH: '/k8s/bin',
    })
  })

  it("gives each plugin its config with the network's name, version and the previous result", () => {
    expect(pluginConfig({name: 'cbr0', cniVersion: '0.3.1'}, {type: 'portmap', capabilities: {portMappings: true}}, {ips: []})).toEqual({
      type: 'portmap',
      capabilities: {portMappings: true},
      name: 'cbr0',
      cniVersion: '0.3.1',
      prevResult: {ips: []},
    })
    expect(pluginConfig({name: 'cbr0', cniVersion: '0.3.1'}, {type: 'flannel'})).toEqual({type: 'flannel', name: 'cbr0', cniVersion: '0.3.1'})
  })

  it("reads the pod's address, MAC and host veth from a bridge result", () => {
    const result = {
      cniVersion: '0.3.1',
      interfaces: [{name: 'cbr0', mac: '0a:58:0a:f4:00:01'}, {name: 'veth0a1b2c3d', mac: '6e:00:00:00:00:01'}, {name: 'eth0', mac: '3e:11:22:33:44:55', sandbox: '/run/netns/knetlab-k-n1-p1'}],
      ips: [{version: '4', interface: 2, address: '10.244.0.2/24', gateway: '10.244.0.1'}],
    }
    expect(parseCniResult(result)).toEqual({ip: '10.244.0.2', prefix: 24, gateway: '10.244.0.1', mac: '3e:11:22:33:44:55', hostVeth: 'veth0a1b2c3d'})
    expect(parseCniResult({ips: []})).toBeUndefined()
  })
})

describe('hollow kubelet objects', () => {
  it('registers a Node the scheduler and kube-proxy accept', () => {
    const node = nodeManifest({name: 'node-1', internalIP: '10.100.0.2'}, '2026-01-01T00:00:00Z') as {metadata: {labels: Record<string, string>}; status: {addresses: unknown[]; allocatable: Record<string, string>; conditions: {type: string; status: string}[]}}
    expect(node.metadata.labels['kubernetes.io/hostname']).toBe('node-1')
    expect(node.status.addresses).toEqual([
      {type: 'InternalIP', address: '10.100.0.2'},
      {type: 'Hostname', address: 'node-1'},
    ])
    expect(node.status.allocatable.pods).toBe('110')
    expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True')
  })

  it('renews a Lease with a MicroTime', () => {
    expect(microTime(new Date('2026-01-01T00:00:01.234Z'))).toBe('2026-01-01T00:00:01.234000Z')
    expect(leaseManifest('node-1', 'u1', new Date('2026-01-01T00:00:00Z'))).toEqual({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {name: 'node-1', namespace: 'kube-node-lease', ownerReferences: [{apiVersion: 'v1', kind: 'Node', name: 'node-1', uid: 'u1'}]},
      spec: {holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: '2026-01-01T00:00:00.000000Z'},
    })
  })

  it('patches pod status to Running and Ready with the CNI address', () => {
    const patch = podRunningPatch({hostIP: '10.100.0.2', podIP: '10.244.0.2', pid: 42, containers: [{name: 'responder', image: 'knet/lab-responder'}], startedAt: 'T'}) as {status: Record<string, unknown>}
    expect(patch.status).toMatchObject({phase: 'Running', hostIP: '10.100.0.2', hostIPs: [{ip: '10.100.0.2'}], podIP: '10.244.0.2', podIPs: [{ip: '10.244.0.2'}]})
    expect((patch.status.conditions as {type: string; status: string}[]).map((c) => `${c.type}=${c.status}`)).toEqual([
      'PodReadyToStartContainers=True',
      'Initialized=True',
      'ContainersReady=True',
      'Ready=True',
      'PodScheduled=True',
    ])
    expect(patch.status.containerStatuses).toEqual([
      {name: 'responder', image: 'knet/lab-responder', imageID: '', containerID: 'knet://42', ready: true, started: true, restartCount: 0, state: {running: {startedAt: 'T'}}},
    ])
    expect(responderPid(patch as never)).toBe(42)
  })
})

describe('real lab manifests', () => {
  it("pins each pod to the plan's node by nodeSelector and keeps its ports", () => {
    const pod = podManifest(plan.pods[0] as (typeof plan.pods)[number]) as unknown as {metadata: Record<string, unknown>; spec: Record<string, unknown>}
    expect(pod.metadata).toEqual({name: 'web-1-1', namespace: 'default', labels: {app: 'web', tier: 'dns'}, annotations: {'lab.knet.dev/netns': 'knetlab-k-n1-p1'}})
    expect(pod.spec.nodeSelector).toEqual({'kubernetes.io/hostname': 'node-1'})
    expect(pod.spec.nodeName).toBeUndefined()
    expect(listenersOf(pod as never)).toEqual(['tcp:8080', 'udp:5353'])
  })

  it('creates Services with their planned ClusterIPs, and the selectorless one without a selector', () => {
    const web = plan.services.find((s) => s.name === 'web-np')
    expect(serviceManifest(web as NonNullable<typeof web>).spec).toEqual({type: 'NodePort', clusterIP: '10.96.0.81', selector: {app: 'web'}, ports: [{name: 'http', port: 80, protocol: 'TCP', targetPort: 'http', nodePort: 30080}]})
    const empty = plan.services.find((s) => s.name === 'empty')
    expect((serviceManifest(empty as NonNullable<typeof empty>).spec as Record<string, unknown>).selector).toBeUndefined()
  })

  it("binds flannel's ClusterRole (kube-flannel.yml's rules) to the flannel user", () => {
    const [role, binding] = flannelRbac('knet-flannel') as unknown as [{rules: unknown}, {subjects: unknown}]
    expect(role.rules).toEqual([
      {apiGroups: [''], resources: ['pods'], verbs: ['get']},
      {apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch']},
      {apiGroups: [''], resources: ['nodes/status'], verbs: ['patch']},
    ])
    expect(binding.subjects).toEqual([{apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'knet-flannel'}])
  })
})

describe('real lab readiness', () => {
  it('wants a ready endpoint from the controller for each planned endpoint', () => {
    const slice = (svc: string, ips: string[], managedBy = 'endpointslice-controller.k8s.io'): unknown => ({
      metadata: {namespace: 'default', labels: {'kubernetes.io/service-name': svc, 'endpointslice.kubernetes.io/managed-by': managedBy}},
      endpoints: ips.map((ip) => ({addresses: [ip], conditions: {ready: true}})),
    })
    const all = [slice('web', ['10.244.1.2', '10.244.2.2']), slice('dns', ['10.244.1.2', '10.244.2.2']), slice('web-np', ['10.244.1.2', '10.244.2.2'])]
    expect(missingEndpoints(plan, all as never)).toEqual([])
    expect(missingEndpoints(plan, [slice('web', ['10.244.1.2']), slice('dns', ['10.244.1.2', '10.244.2.2'], 'someone-else')] as never)).toEqual([
      'EndpointSlice of default/web lacks ready 10.244.2.2 (web-2-1)',
      'EndpointSlice of default/dns lacks ready 10.244.1.2 (web-1-1)',
      'EndpointSlice of default/dns lacks ready 10.244.2.2 (web-2-1)',
      'EndpointSlice of default/web-np lacks ready 10.244.1.2 (web-1-1)',
      'EndpointSlice of default/web-np lacks ready 10.244.2.2 (web-2-1)',
    ])
  })

  it("finds kube-proxy's DNAT targets in iptables and nftables rulesets", () => {
    expect(expectedDnatTargets(plan)).toEqual(['10.244.1.2:5353', '10.244.1.2:8080', '10.244.2.2:5353', '10.244.2.2:8080'])
    expect([...dnatTargets('iptables', '-A KUBE-SEP-X -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.2:8080')]).toEqual(['10.244.1.2:8080'])
    expect([...dnatTargets('nftables', 'chain endpoint-X {\n ip saddr 10.244.1.2 jump mark-for-masquerade\n meta l4proto tcp dnat to 10.244.1.2:8080\n }')]).toEqual(['10.244.1.2:8080'])
    // kube-proxy 1.36's nftables mode: the endpoints inline in the Service chain.
    const inline = 'chain service-X {\n ip daddr 10.96.0.80 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade\n meta l4proto tcp dnat ip to numgen random mod 2 map { 0 : 10.244.0.2 . 8080, 1 : 10.244.1.2 . 8080 }\n }'
    expect([...dnatTargets('nftables', inline)]).toEqual(['10.244.0.2:8080', '10.244.1.2:8080'])
  })

  it("reads flannel's VTEP MAC annotation", () => {
    expect(parseVtepMac({'flannel.alpha.coreos.com/backend-data': '{"VNI":1,"VtepMAC":"AA:bb:cc:dd:ee:ff"}'})).toBe('aa:bb:cc:dd:ee:ff')
    expect(parseVtepMac({'flannel.alpha.coreos.com/backend-data': 'null'})).toBeUndefined()
    expect(parseVtepMac(undefined)).toBeUndefined()
  })
})

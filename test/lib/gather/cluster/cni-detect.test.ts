import {describe, expect, it} from 'vitest'
import {detectCni} from '../../../../src/lib/gather/cluster/cni-detect.js'

const dsIn = (namespace: string, name: string, ...images: string[]): unknown => ({
  metadata: {name, namespace},
  spec: {template: {spec: {containers: images.map((image, i) => ({name: `c${i}`, image}))}}},
})

const ds = (name: string, ...images: string[]): unknown => dsIn('kube-system', name, ...images)

describe('detectCni', () => {
  it.each([
    [[ds('cilium', 'quay.io/cilium/cilium:v1.16.3@sha256:abc')], 'cilium'],
    [[ds('calico-node', 'docker.io/calico/node:v3.28.2')], 'calico'],
    [[ds('kube-flannel-ds', 'docker.io/flannel/flannel:v0.25.7')], 'flannel'],
    [[ds('weave-net', 'ghcr.io/weaveworks/launcher/weave-kube:2.8.1')], 'weave'],
    [[ds('kube-router', 'docker.io/cloudnativelabs/kube-router:v2.2.1')], 'kube-router'],
    [[ds('antrea-agent', 'antrea/antrea-agent-ubuntu:v2.1.0')], 'antrea'],
    [[ds('kube-ovn-cni', 'docker.io/kubeovn/kube-ovn:v1.13.0')], 'kube-ovn'],
    [[ds('aws-node', '602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.18.5-eksbuild.1')], 'aws-vpc-cni'],
    [[ds('kindnet', 'docker.io/kindest/kindnetd:v20240813-c6f155d6')], 'kindnet'],
    [[ds('canal', 'docker.io/calico/node:v3.28.2', 'quay.io/coreos/flannel:v0.15.1')], 'canal'],
    // renamed DaemonSet, recognised by image from a mirror
    [[ds('net-agent', 'mirror.corp.example/calico/node:v3.27.0')], 'calico'],
  ])('recognises %j as %s', (daemonSets, cni) => {
    expect(detectCni(daemonSets as unknown[]).cni).toBe(cni)
  })

  it('reports kube-proxy and the delegate under multus', () => {
    expect(detectCni([ds('kube-multus-ds', 'ghcr.io/k8snetworkplumbingwg/multus-cni:v4.1.0'), ds('calico-node', 'docker.io/calico/node:v3.28.2'), ds('kube-proxy', 'registry.k8s.io/kube-proxy:v1.31.2')])).toEqual({
      cni: 'calico',
      evidence: 'DaemonSet kube-system/calico-node',
      kubeProxy: true,
      matches: [
        {cni: 'multus', daemonSet: 'kube-multus-ds', namespace: 'kube-system'},
        {cni: 'calico', daemonSet: 'calico-node', namespace: 'kube-system'},
      ],
    })
  })

  it('finds CNIs installed outside kube-system (flannel manifest, Calico operator)', () => {
    expect(detectCni([dsIn('kube-flannel', 'kube-flannel-ds', 'ghcr.io/flannel-io/flannel:v0.26.0')]).evidence).toBe('DaemonSet kube-flannel/kube-flannel-ds')
    expect(detectCni([dsIn('calico-system', 'calico-node', 'quay.io/calico/node:v3.29.0')]).cni).toBe('calico')
  })

  it('finds nothing, and no kube-proxy, in unrelated DaemonSets or junk', () => {
    expect(detectCni([ds('node-exporter', 'quay.io/prometheus/node-exporter:v1.8.2'), null, 'x', {}])).toEqual({cni: undefined, evidence: undefined, kubeProxy: false, matches: []})
  })

  it('reads container lists that are not lists as empty (a fuzzed cluster model threw here)', () => {
    const broken = (containers: unknown, initContainers?: unknown): unknown => ({metadata: {name: 'calico-node', namespace: 'kube-system'}, spec: {template: {spec: {containers, initContainers}}}})
    for (const junk of [19, 'calico/node:v3', {image: 'calico/node:v3'}, true]) {
      expect(detectCni([broken(junk), broken([{image: 'docker.io/calico/node:v3.28.2'}], junk)]).cni).toBe('calico')
    }
  })
})

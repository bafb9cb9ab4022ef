/** Shared inputs for the netfilter evaluator tests: parsed dumps and packets. */
import {expect} from 'vitest'
import {kubeProxyIptablesRules, type KubeProxyModel} from '../../../../src/lib/lab/kube-proxy-rules.js'
import {parseIptablesSave, type IptablesDump} from '../../../../src/lib/parse/iptables-save.js'
import type {NetfilterContext, Packet} from '../../../../src/lib/datapath/netfilter/packet.js'

export function parse(text: string): IptablesDump {
  const {value, problems} = parseIptablesSave(text)
  expect(problems).toEqual([])
  return value
}

export function kubeDump(model: KubeProxyModel): IptablesDump {
  return parse(kubeProxyIptablesRules(model))
}

/** A TCP SYN from a pod; override what the test is about. */
export function tcp(over: Partial<Packet> = {}): Packet {
  return {family: 4, src: '10.244.1.5', dst: '10.96.0.50', protocol: 'tcp', dport: 80, inIface: 'cbr0', mark: 0, ctstate: 'NEW', ...over}
}

export const NODE_IP = '192.168.1.10'

/** node-1: eth0 192.168.1.10/24, cbr0 10.244.1.1/24. */
export const nodeCtx: NetfilterContext = {
  localAddresses: new Set([NODE_IP, '10.244.1.1']),
  broadcastAddresses: new Set(['192.168.1.255', '10.244.1.255']),
  interfaceAddresses: new Map([['eth0', [NODE_IP]], ['cbr0', ['10.244.1.1']], ['lo', ['127.0.0.1']]]),
}

/** One ClusterIP with three endpoints, one without endpoints, one NodePort per traffic policy. */
export const cluster: KubeProxyModel = {
  clusterCIDR: '10.244.0.0/16',
  nodeName: 'node-1',
  services: [
    {
      namespace: 'shop', name: 'web', clusterIP: '10.96.0.50',
      ports: [{name: 'http', port: 80, protocol: 'TCP', targetPort: 8080}],
      endpoints: [{ip: '10.244.1.5', nodeName: 'node-1'}, {ip: '10.244.2.7', nodeName: 'node-2'}, {ip: '10.244.3.9', nodeName: 'node-3'}],
    },
    {
      namespace: 'shop', name: 'empty', clusterIP: '10.96.0.60',
      ports: [{name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30060}], endpoints: [],
    },
    {
      namespace: 'shop', name: 'local', clusterIP: '10.96.0.70', externalTrafficPolicy: 'Local',
      ports: [{name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30070}],
      endpoints: [{ip: '10.244.2.8', nodeName: 'node-2'}],
    },
    {
      namespace: 'shop', name: 'np', clusterIP: '10.96.0.80',
      ports: [{name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080}],
      endpoints: [{ip: '10.244.2.9', nodeName: 'node-2'}, {ip: '10.244.1.6', nodeName: 'node-1'}],
    },
  ],
}

import {badInput} from '../../report/errors.js'
import {oneNode} from './util.js'
import type {Fault} from './types.js'

function serviceRef(target: string): {namespace: string; name: string} {
  const parts = target.replace(/^(svc|service)\//, '').split('/')
  return parts.length === 2 ? {namespace: parts[0] as string, name: parts[1] as string} : {namespace: 'default', name: parts[0] as string}
}

export const missingNat: Fault = {
  id: 'missing-nat',
  emulates:
    "One node lacks a Service's kube-proxy chains (kube-proxy on that node crashed, is wedged, or lost its rules to another agent's iptables-restore): the ClusterIP is not translated there and packets to it are routed as if it were a real address.",
  expect: 'pods on node-1 → svc/default/web: timeout; pods on node-2 → svc/default/web: delivered; other Services and direct pod traffic delivered.',
  api: 'Linux only: the Service and its EndpointSlice are unchanged (kube-proxy does not write the API).',
  defaults: {node: 'node-1', target: 'svc/default/web'},
  targetHelp: 'the Service whose chains the node lacks (svc/NS/NAME)',
  async break(ctx) {
    oneNode(ctx.node, this.id)
    const ref = serviceRef(ctx.target)
    if (!ctx.plan.services.some((s) => s.namespace === ref.namespace && s.name === ref.name)) {
      throw badInput(`--target: no Service ${ref.namespace}/${ref.name} in lab ${ctx.plan.params.name}`, `Services: ${ctx.plan.services.map((s) => `svc/${s.namespace}/${s.name}`).join(', ')}`)
    }
    // The node's nat table is rewritten by the runner from the kubeProxy transform below.
    return {undo: []}
  },
  kubeProxy(model, node, applied) {
    if (node.name !== applied.node) return model
    const ref = serviceRef(applied.target)
    return {...model, services: model.services.filter((s) => !(s.namespace === ref.namespace && s.name === ref.name))}
  },
}

import {KnetError, badInput} from '../../report/errors.js'
import type {Obj} from '../real/api.js'
import {serviceManifest} from '../real/manifests.js'
import {mentions, proxyRuleset, signalComponent, waitUntil} from './real.js'
import {oneNode} from './util.js'
import type {Fault} from './types.js'

function serviceRef(target: string): {namespace: string; name: string} {
  const parts = target.replace(/^(svc|service)\//, '').split('/')
  return parts.length === 2 ? {namespace: parts[0] as string, name: parts[1] as string} : {namespace: 'default', name: parts[0] as string}
}

/** The plan Service a real-mode missing-nat Service copies (selector, ports). */
const LIKE = 'web'

export const missingNat: Fault = {
  id: 'missing-nat',
  emulates:
    "One node lacks a Service's kube-proxy chains (kube-proxy on that node crashed, is wedged, or lost its rules to another agent's iptables-restore): the ClusterIP is not translated there and packets to it are routed as if it were a real address.",
  expect: 'pods on node-1 → svc/default/web: timeout; pods on node-2 → svc/default/web: delivered; other Services and direct pod traffic delivered.',
  expectFor: {'aws-vpc': "as above, except that pods on node-1 → svc/default/web get an error, not a timeout: the untranslated ClusterIP follows the pod's default route out to the VPC's gateway, which answers host unreachable."},
  api: 'Linux only: the Service and its EndpointSlice are unchanged (kube-proxy does not write the API).',
  defaults: {node: 'node-1', target: 'svc/default/web'},
  targetHelp: 'the Service whose chains the node lacks (svc/NS/NAME)',
  real: {
    does: `kube-proxy on --node hangs (SIGSTOP), then the --target Service (a new one, like ${LIKE}: same selector and port, a ClusterIP the API server allocates, recorded in the state file) is created through the API: the other nodes program it, --node never does. Heal: SIGCONT, wait until that kube-proxy has programmed it, delete the Service and wait until no node has its rules.`,
    defaults: {node: 'node-1', target: 'svc/default/web-new'},
    // Not a timeout as in the emulated lab: the untranslated ClusterIP leaves by node-1's default
    // route and the lab's router, which has no route for it, answers "unreachable".
    // kube-proxy in nftables mode drops a ClusterIP its table does not know on node-1 itself.
    expect: 'pods on node-1 → svc/default/web-new: error (the router answers host unreachable; with --proxy-mode nftables: timeout, node-1\'s kube-proxy table drops traffic to ClusterIPs it has no Service for); pods on node-2 → svc/default/web-new: delivered; every planned Service and direct pod traffic delivered.',
    async break(ctx) {
      const node = oneNode(ctx.node, 'missing-nat')
      const ref = serviceRef(ctx.target)
      const like = ctx.plan.services.find((s) => s.namespace === ref.namespace && s.name === LIKE)
      if (!like) throw badInput(`lab ${ctx.plan.params.name} has no Service ${ref.namespace}/${LIKE} to copy`)
      if (ctx.plan.services.some((s) => s.namespace === ref.namespace && s.name === ref.name)) {
        throw badInput(`--target: Service ${ref.namespace}/${ref.name} exists; on a real lab missing-nat creates a new Service (default svc/default/web-new)`)
      }
      await signalComponent(ctx.store, ctx.plan.marker, 'kube-proxy', [node.name], 'SIGSTOP')
      try {
        const {clusterIP: _planned, clusterIPs: _plannedIPs, ...spec} = serviceManifest({...like, name: ref.name, type: 'ClusterIP', ports: like.ports.map(({nodePort: _n, ...p}) => p)}).spec as Record<string, unknown>
        await ctx.real.api.ensure({apiVersion: 'v1', kind: 'Service', metadata: {name: ref.name, namespace: ref.namespace}, spec} as Obj)
        const created = (await ctx.real.api.read('v1', 'Service', ref.name, ref.namespace)) as {spec?: {clusterIP?: string}} | undefined
        const clusterIP = created?.spec?.clusterIP
        if (!clusterIP) throw new KnetError('command-failed', `Service ${ref.namespace}/${ref.name} has no ClusterIP`)
        await ctx.store.update((s) => (s.realised = {...s.realised, services: [...(s.realised?.services ?? []), {namespace: ref.namespace, name: ref.name, clusterIP, like: LIKE}]}))
        // The fault is there once the running nodes have programmed the Service.
        const others = ctx.plan.nodes.filter((n) => n.name !== node.name)
        await waitUntil(`the other nodes' kube-proxy to program ${ref.namespace}/${ref.name}`, async () => {
          const lacking: string[] = []
          for (const n of others) if (!mentions(await proxyRuleset(ctx.real, n), clusterIP)) lacking.push(`kube-proxy on ${n.name} has no rule for ${clusterIP}`)
          return lacking
        })
        return {undo: [], data: {service: `${ref.namespace}/${ref.name}`, clusterIP}}
      } catch (error) {
        await signalComponent(ctx.store, ctx.plan.marker, 'kube-proxy', [node.name], 'SIGCONT')
        throw error
      }
    },
    async heal(ctx, applied) {
      const node = oneNode(ctx.node, 'missing-nat')
      const ref = serviceRef(applied.target)
      const clusterIP = String(applied.data?.clusterIP ?? '')
      await signalComponent(ctx.store, ctx.plan.marker, 'kube-proxy', [node.name], 'SIGCONT')
      if (clusterIP) await waitUntil(`kube-proxy on ${node.name} to resync`, async () => (mentions(await proxyRuleset(ctx.real, node), clusterIP) ? [] : [`no rule for ${clusterIP} yet`]))
      await ctx.real.api.remove('v1', 'Service', ref.name, ref.namespace)
      await ctx.store.update((s) => (s.realised = {...s.realised, services: (s.realised?.services ?? []).filter((x) => !(x.namespace === ref.namespace && x.name === ref.name))}))
      if (clusterIP) {
        await waitUntil(`every node's kube-proxy to drop ${ref.namespace}/${ref.name}`, async () => {
          const left: string[] = []
          for (const n of ctx.plan.nodes) if (mentions(await proxyRuleset(ctx.real, n), clusterIP)) left.push(`kube-proxy on ${n.name} still has ${clusterIP}`)
          return left
        })
      }
    },
  },
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

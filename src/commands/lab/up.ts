import {Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {LabInterrupted, labUp} from '../../lib/lab/build.js'
import {LAB_EXIT_CODES_HELP, labNameFlag} from '../../lib/lab/flags.js'
import {IP_FAMILIES, LAB_DEFAULTS, MAX_NODES, MAX_PODS_PER_NODE, MIN_NODES, TOPOLOGIES} from '../../lib/lab/plan.js'
import {renderLabUp} from '../../lib/lab/render.js'
import {PROXY_MODES} from '../../lib/lab/real/configs.js'
import {badInput} from '../../lib/report/errors.js'
import {resolve} from 'node:path'

export default class LabUp extends BaseCommand {
  static override summary = 'Build a cluster of network namespaces: nodes, pods, routes, kube-proxy rules.'

  static override description = `Creates an underlay segment (10.100.0.0/24, router .1), one namespace per node with a cbr0 bridge owning 10.244.N.0/24, one namespace per pod joined by a veth, host-gw routes or a flannel-style VXLAN overlay between nodes, kube-proxy iptables rules for the lab's Services, and a TCP/UDP responder in every pod that answers with the pod's name. Needs Linux and root. Ctrl-C removes what was built.

With --kubernetes DIR (or KNET_KUBERNETES=DIR) the same lab is run by the real programs: etcd, kube-apiserver, kube-controller-manager and kube-scheduler in the router namespace, kube-proxy and flanneld (vxlan or host-gw backend; ptp: host-gw for the routes between nodes) in each node namespace, the flannel/bridge/host-local CNI chain (ptp: kindnet's ptp/host-local/portmap conflist, written once each Node has its pod CIDR), and a hollow kubelet that registers the Nodes and wires each scheduled Pod. Services and Pods are created through the API; EndpointSlices and rules come from the real controllers; with --ip-family dual every program runs dual-stack (both Service and pod ranges, IPv6 proxier, flannel-v6.1). knet reaches the API through a loopback relay (the lab's kubeconfig).

${LAB_EXIT_CODES_HELP}`

  static override examples = ['<%= config.bin %> lab up', '<%= config.bin %> lab up --name demo --nodes 3 --pods-per-node 2 --topology vxlan', '<%= config.bin %> lab up --ip-family dual --topology vxlan', '<%= config.bin %> lab up --kubernetes .cache/kubernetes/v1.36.3/bin --nodes 3 --topology vxlan --proxy-mode nftables', '<%= config.bin %> lab up --kubernetes .cache/kubernetes/v1.36.3/bin --topology vxlan --ip-family dual']

  static override flags = {
    ...labNameFlag,
    nodes: Flags.integer({description: 'number of nodes', default: LAB_DEFAULTS.nodes, min: MIN_NODES, max: MAX_NODES}),
    'pods-per-node': Flags.integer({description: 'pods on each node', default: LAB_DEFAULTS.podsPerNode, min: 1, max: MAX_PODS_PER_NODE}),
    topology: Flags.option({options: TOPOLOGIES, description: 'how nodes reach each other\'s pod CIDRs', default: LAB_DEFAULTS.topology})(),
    'ip-family': Flags.option({options: IP_FAMILIES, description: 'pods and Services: IPv4, IPv6 or both (dual-stack; host-gw and vxlan only; with --kubernetes ipv4 or dual)', default: 'ipv4' as const})(),
    force: Flags.boolean({description: 'remove an existing lab of the same name first'}),
    kubernetes: Flags.string({
      description: 'run the real upstream programs from DIR (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, flanneld, CNI plugins) instead of emulating them',
      env: 'KNET_KUBERNETES',
      helpValue: 'DIR',
    }),
    'proxy-mode': Flags.option({options: PROXY_MODES, description: "kube-proxy's mode with --kubernetes (default iptables)"})(),
    json: Flags.boolean({description: 'print the lab state as JSON on stdout'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(LabUp)
    const controller = new AbortController()
    const abort = (): void => controller.abort()
    // on, not once: execa's signal-exit re-raises a signal when no other listener remains, which
    // would kill us before the teardown ran. A second Ctrl-C just asks again.
    process.on('SIGINT', abort)
    process.on('SIGTERM', abort)
    // A closed stderr (`… | head`) must not crash the build halfway and leave a half-built lab.
    const ignore = (): void => undefined
    process.stderr.on('error', ignore)
    if (flags['proxy-mode'] && !flags.kubernetes) throw badInput('--proxy-mode needs --kubernetes DIR (the emulated lab writes iptables rules itself)')
    try {
      const {plan, state, durationMs} = await labUp({
        ...(flags.kubernetes ? {kubernetes: {dir: resolve(flags.kubernetes), proxyMode: flags['proxy-mode'] ?? 'iptables'}} : {}),
        params: {name: flags.name, nodes: flags.nodes, podsPerNode: flags['pods-per-node'], topology: flags.topology, ...(flags['ip-family'] === 'ipv4' ? {} : {ipFamily: flags['ip-family']})},
        force: flags.force,
        signal: controller.signal,
        onProgress: (m) => this.note(m),
      })
      if (flags.json) process.stdout.write(`${JSON.stringify(state, null, 2)}\n`)
      else this.note(renderLabUp(plan, durationMs))
    } catch (error) {
      if (!(error instanceof LabInterrupted)) throw error
      this.note(`knet: ${error.message}`)
      process.exitCode = 130
    } finally {
      process.off('SIGINT', abort)
      process.off('SIGTERM', abort)
      process.stderr.off('error', ignore)
    }
  }
}

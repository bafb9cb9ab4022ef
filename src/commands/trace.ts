import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../lib/cli/base-command.js'
import {clusterFlags, isSafeName, namespaceFlag, nodeAccessFlags, podAccessOptions, snapshotFlag, verboseFlag} from '../lib/cli/flags.js'
import {resolveNamespace} from '../lib/cli/namespace.js'
import {terminalProgress} from '../lib/cli/progress-line.js'
import {stdoutLayout} from '../lib/cli/terminal.js'
import {analysisSourceOptions} from '../lib/cli/source-options.js'
import {useLabFlag} from '../lib/lab/flags.js'
import {TRACE_FORMATS} from '../lib/render/formats.js'
import {badInput} from '../lib/report/errors.js'
import {EXIT_CODES_HELP} from '../lib/report/exit-codes.js'
import {parseEndpoint} from '../lib/trace/endpoints.js'
import {TRACE_DISAGREES, traceExitCode} from '../lib/trace/exit-code.js'
import type {TraceRequest} from '../lib/trace/path.js'

export default class Trace extends BaseCommand {
  static override summary = "Follow one packet from SRC to DST hop by hop through the cluster's real datapath state, with a verdict."

  static override description = `SRC and DST: pod/NS/NAME, NS/NAME, NAME (with -n), svc/NS/NAME[:PORT|:PORTNAME], node/NAME, or an IP with an optional port (10.96.0.10:53, [fd00:10:96::a]:80). A raw IP is resolved to the pod, Service or node owning it; a source that is none of those enters at --entry-node. Each hop names the device, what happens there, its evidence (the route, rule, FDB line or object field and the node command it came from) and ok/fail/unknown. A Service is traced through its DNAT, one branch per endpoint. One trace is one address family: the destination's (an address's own, a Service's first ClusterIP, a pod's first IP) unless --ip-family chooses one of a dual-stack Service's or pod's; IPv6 is read from the nodes' IPv6 routes and rules, ip6tables (and ip6/inet nftables), net.ipv6.conf.all.forwarding and NDP entries.

Verdicts: delivered (the reply gets back too), dropped (with a reason code and the hop), partial (some Service endpoints reached, some not), unknown. Only the nodes on the path are gathered (every node when DST is an address the cluster state does not place).

--probe also sends the real packet from SRC and shows prediction and observation side by side; when they disagree, stderr says so and the exit code is ${TRACE_DISAGREES}. With --lab the lab's prober sends it; on a live cluster it is sent from the source pod through exec with the first tool the pod has (nc, curl, wget, bash /dev/tcp; nc -u or bash /dev/udp for UDP; ping for ICMP), or, when it has none, from an ephemeral container (--image) added to the pod — which Kubernetes never lets anyone remove (it stops by itself after 5 minutes). From a node source it is sent in the node's network namespace: from knet's node pod on that node (--node-access pod, deleted afterwards) or the agent's pod there (--node-access agent). An outside source is not probed (reported as unknown). Needs pods/exec and, for the ephemeral container, pods/ephemeralcontainers patch (knet rbac --probe).

${EXIT_CODES_HELP}
  For trace: 0 delivered, 1 dropped or partial, 3 unknown, ${TRACE_DISAGREES} --probe: the real packet disagrees with the verdict.
  130/143  --node-access pod interrupted by SIGINT/SIGTERM (its node pods were removed)`

  static override examples = [
    '<%= config.bin %> trace web-1-1 web-2-1 --lab knet',
    '<%= config.bin %> trace pod/default/web-1-1 svc/default/web:80 --snapshot lab.json.gz -o json',
    '<%= config.bin %> trace node/node-1 10.244.2.3 --protocol icmp --snapshot lab.json.gz',
    '<%= config.bin %> trace web-1-2 svc/default/dns --lab knet --probe',
    '<%= config.bin %> trace web-1-1 svc/default/web:80 --ip-family 6 --snapshot dual.json.gz',
    '<%= config.bin %> trace web-1-1 [fd00:10:244:2::3]:8080 --snapshot dual.json.gz',
    '<%= config.bin %> trace pod/shop/cart-0 svc/shop/db:5432 --probe --context prod',
  ]

  static override args = {
    src: Args.string({description: 'where the packet starts', required: true}),
    dst: Args.string({description: 'where it is going', required: true}),
  }

  static override flags = {
    protocol: Flags.option({options: ['tcp', 'udp', 'icmp'] as const, description: "protocol (default: the Service port's, else tcp)"})(),
    port: Flags.integer({description: 'destination port (when DST does not say :PORT)', min: 1, max: 65535}),
    'ip-family': Flags.option({options: ['4', '6'] as const, description: "address family of a dual-stack Service or pod to trace (default: the destination's first)"})(),
    ...namespaceFlag('SRC/DST given as a bare NAME'),
    'entry-node': Flags.custom<string>({description: 'for a source outside the cluster: the node where it enters', parse: async (v) => {
      if (!isSafeName(v)) throw badInput(`--entry-node: "${v}" is not a node name`)
      return v
    }})(),
    'source-port': Flags.integer({description: "the client's source port (tcp/udp): a flow conntrack already holds follows its entry (e.g. a stale DNAT), not the nat rules", min: 1, max: 65535}),
    size: Flags.integer({description: 'payload bytes; a packet larger than an MTU on the path is then a drop (mtu-exceeded)', min: 0, max: 65_000}),
    output: Flags.option({char: 'o', options: TRACE_FORMATS, default: 'table' as const, description: 'output format: table (human: the verdict first, -v for every hop), json, mermaid or dot (a picture of the path: Mermaid flowchart, Graphviz)'})(),
    json: Flags.boolean({description: 'same as -o json'}),
    ...verboseFlag('every hop with all its evidence, every Service branch in full (default: the verdict, the path, and the hops of what failed with the line that decided each)'),
    probe: Flags.boolean({description: `also send the real packet from SRC (the lab's prober, or exec in the source pod) and compare; exit ${TRACE_DISAGREES} when they disagree`}),
    ...snapshotFlag,
    ...useLabFlag,
    ...clusterFlags,
    ...nodeAccessFlags,
    parallel: Flags.integer({description: 'nodes gathered at once', default: 10, min: 1, max: 100, helpGroup: 'NODES'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Trace)
    if (flags.probe && flags.lab === undefined && (flags.snapshot !== undefined || flags.objects !== undefined)) {
      throw badInput(`--probe sends a real packet: it needs a live cluster (a kubeconfig) or --lab, not ${flags.snapshot === undefined ? '--objects' : '--snapshot'}`)
    }
    const namespace = await resolveNamespace(flags)
    const request: TraceRequest = {
      source: parseEndpoint(args.src, namespace),
      destination: parseEndpoint(args.dst, namespace),
      ...(flags.protocol ? {protocol: flags.protocol} : {}),
      ...(flags.port === undefined ? {} : {port: flags.port}),
      ...(flags['entry-node'] ? {entryNode: flags['entry-node']} : {}),
      ...(flags.size === undefined ? {} : {size: flags.size}),
      ...(flags['source-port'] === undefined ? {} : {sourcePort: flags['source-port']}),
      ...(flags['ip-family'] === undefined ? {} : {family: flags['ip-family'] === '6' ? 6 : 4}),
    }
    // Loaded here, not at the top: `knet --help` and other commands should not pay for them.
    const {resolveAnalysisSnapshot} = await import('../lib/gather/analysis-source.js')
    const {traceSnapshot} = await import('../lib/trace/path.js')
    const {pathNodes} = await import('../lib/trace/path-nodes.js')
    const {renderTraceOutput} = await import('../lib/render/trace-output.js')
    const progress = terminalProgress()
    const snapshot = await resolveAnalysisSnapshot({
      ...analysisSourceOptions(flags, {knetVersion: this.config.version, command: ['knet', 'trace', ...this.argv].join(' '), ...progress}),
      pathNodes: (cluster) => pathNodes(cluster, request),
    }).finally(() => progress?.stop())
    const result = traceSnapshot(snapshot, request)
    if (flags.probe) {
      const {probeInLab, probeLive} = await import('../lib/trace/probe.js')
      result.probe =
        flags.lab === undefined
          ? await probeLive(result, {
              kubeconfig: flags.kubeconfig,
              context: flags.context,
              timeoutMs: flags.timeout,
              image: flags.image,
              startTimeoutMs: flags['node-timeout'],
              size: flags.size,
              nodeAccess: flags['node-access'],
              pod: podAccessOptions(flags).pod,
              onProgress: (m) => this.note(m),
            })
          : await probeInLab(flags.lab, result, flags.size)
    }
    process.stdout.write(renderTraceOutput(result, flags.json ? 'json' : flags.output, {...stdoutLayout(), verbose: flags.verbose}))
    if (result.probe?.agrees === false) this.note(`knet's prediction disagrees with the real packet: ${result.probe.detail}`)
    process.exitCode = traceExitCode(result.verdict, result.probe)
  }
}

import {Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {chunkSizeFlag, clusterFlags, nodeAccessFlags, podAccessOptions, remoteAccessOptions} from '../../lib/cli/flags.js'
import {terminalProgress} from '../../lib/cli/progress-line.js'
import type {NodeAccess} from '../../lib/gather/capture.js'
import {useLabFlag} from '../../lib/lab/flags.js'
import {EXIT_CODES_HELP, ExitCode} from '../../lib/report/exit-codes.js'
import {renderSnapshotSummary, summariseSnapshot} from '../../lib/render/snapshot-summary.js'

export default class Snapshot extends BaseCommand {
  static override summary = 'Capture raw cluster and node evidence into one replayable file.'

  static override description = `Gathers the Kubernetes objects knet uses (API or --objects) and, from each node, the output of knet's read-only command catalogue (routes, rules, links, bridges, neighbours, iptables/nftables/IPVS, conntrack, sysctls, CNI config). Raw output is kept, so trace and doctor can replay the file offline later.

${EXIT_CODES_HELP}
  130/143  --node-access pod interrupted by SIGINT/SIGTERM (its node pods were removed)`

  static override examples = [
    '<%= config.bin %> snapshot --node-access local -o host.json.gz',
    '<%= config.bin %> snapshot --objects dump.yaml --node-access netns --netns-map node-1=ns1,node-2=ns2 -o lab.json',
    '<%= config.bin %> snapshot --kubeconfig ~/.kube/config --node-access none -o api-only.json.gz',
    '<%= config.bin %> snapshot --node-access ssh --ssh-user ubuntu -o prod.json.gz',
    '<%= config.bin %> snapshot --context kind-kind --node-access docker -o kind.json.gz',
    '<%= config.bin %> snapshot --lab knet -o lab.json.gz',
  ]

  static override flags = {
    output: Flags.string({char: 'o', description: 'file to write (.gz → gzip-compressed)', default: 'knet-snapshot.json.gz'}),
    ...clusterFlags,
    ...chunkSizeFlag,
    cluster: Flags.boolean({
      description: 'gather cluster state (default: when --kubeconfig/--context/--objects is given or a kubeconfig exists)',
      allowNo: true,
      helpGroup: 'CLUSTER',
    }),
    ...nodeAccessFlags,
    ...useLabFlag,
    'node-name': Flags.string({description: 'with --node-access local: the node name to record (default: hostname)', helpGroup: 'NODES'}),
    parallel: Flags.integer({description: 'nodes gathered at once', default: 10, min: 1, max: 100, helpGroup: 'NODES'}),
    json: Flags.boolean({description: 'print a JSON summary on stdout instead of text on stderr'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Snapshot)
    // Loaded here, not at the top: `knet --help` and other commands should not pay for them.
    const {captureSnapshot} = await import('../../lib/gather/capture.js')
    const {labNodeAccess} = await import('../../lib/lab/status.js')
    const {resolveClusterEvidence} = await import('../../lib/gather/cluster-source.js')
    const {writeSnapshot} = await import('../../lib/snapshot/write.js')
    // --json: nothing on stderr. Otherwise log lines, and on a terminal a live count of the nodes.
    const live = flags.json ? undefined : terminalProgress()
    const progress = flags.json ? undefined : (live?.onProgress ?? ((m: string) => this.note(m)))
    const lab = flags.lab ? await labNodeAccess(flags.lab) : undefined
    const cluster = await resolveClusterEvidence(
      {
        kubeconfig: lab?.kubeconfig ?? flags.kubeconfig,
        context: flags.context,
        objects: flags.objects,
        timeoutMs: flags.timeout,
        pageSize: flags['chunk-size'],
        cluster: lab ? lab.kubeconfig !== undefined : flags.cluster,
      },
      progress,
    )
    // A live cluster's nodes are read through pods on them by default; otherwise this host.
    const nodeAccess: NodeAccess = lab ? 'netns' : (flags['node-access'] ?? (flags['netns-map'] ? 'netns' : cluster?.source === 'api' ? 'pod' : 'local'))
    const snapshot = await captureSnapshot({
      knetVersion: this.config.version,
      nodeAccess,
      netnsMap: lab?.nodeMap ?? flags['netns-map'],
      ...remoteAccessOptions(flags),
      pod: {...podAccessOptions(flags).pod, kubeconfig: flags.kubeconfig, context: flags.context, timeoutMs: flags.timeout},
      localNodeName: flags['node-name'],
      cluster,
      parallel: flags.parallel,
      commandTimeoutMs: flags.timeout,
      command: ['knet', 'snapshot', ...this.argv].join(' '),
      onProgress: progress,
      ...(live ? {onNodeProgress: live.onNodeProgress} : {}),
    }).finally(() => live?.stop())
    const bytes = await writeSnapshot(snapshot, flags.output)
    const summary = summariseSnapshot(snapshot, flags.output, bytes)
    if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
    else this.note(renderSnapshotSummary(summary))
    if (snapshot.collectionErrors.length > 0) process.exitCode = ExitCode.Gather
  }
}

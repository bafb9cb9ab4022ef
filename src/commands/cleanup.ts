import {Flags} from '@oclif/core'
import {BaseCommand} from '../lib/cli/base-command.js'
import {clusterFlags, isNamespaceName} from '../lib/cli/flags.js'
import {badInput} from '../lib/report/errors.js'
import {ExitCode} from '../lib/report/exit-codes.js'

export default class Cleanup extends BaseCommand {
  static override summary = 'Delete the node pods a killed knet run left behind.'

  static override description = `knet deletes its node pods (--node-access pod) when a run ends, fails or is interrupted with Ctrl-C or SIGTERM; a run killed outright (SIGKILL, a lost laptop) cannot. This finds pods labelled app.kubernetes.io/managed-by=knet that also carry a knet.dev/run-id label — in every namespace, or only --debug-namespace — and deletes them, printing one line per pod on stdout. Nothing else is touched. Needs list and delete on pods (see \`knet rbac\`).

EXIT CODES
  0  every knet pod found was deleted (or none was found; --dry-run: listed)
  2  usage error
  3  the API could not be read, or a pod could not be deleted`

  static override examples = ['<%= config.bin %> cleanup --dry-run', '<%= config.bin %> cleanup --debug-namespace knet-debug', '<%= config.bin %> cleanup --run-id 3f9a1c2e']

  static override flags = {
    kubeconfig: clusterFlags.kubeconfig,
    context: clusterFlags.context,
    timeout: clusterFlags.timeout,
    'debug-namespace': Flags.custom<string>({
      description: 'only this namespace (default: every namespace)',
      parse: async (input) => {
        if (!isNamespaceName(input)) throw badInput(`--debug-namespace: "${input}" is not a namespace name`)
        return input
      },
    })(),
    'run-id': Flags.custom<string>({
      description: "only the pods of this run (the knet.dev/run-id label)",
      parse: async (input) => {
        if (!/^[a-z0-9]{1,63}$/.test(input)) throw badInput(`--run-id: "${input}" is not a knet run id (lower-case letters and digits)`)
        return input
      },
    })(),
    'dry-run': Flags.boolean({description: 'list what would be deleted; delete nothing', default: false}),
    json: Flags.boolean({description: 'print the result as JSON on stdout'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Cleanup)
    const {openPodClient} = await import('../lib/gather/cluster/pods.js')
    const {cleanupPods, renderCleanupLine} = await import('../lib/gather/cluster/cleanup.js')
    const client = openPodClient({kubeconfig: flags.kubeconfig, context: flags.context, timeoutMs: flags.timeout})
    const result = await cleanupPods(client, {
      dryRun: flags['dry-run'],
      ...(flags['debug-namespace'] === undefined ? {} : {namespace: flags['debug-namespace']}),
      ...(flags['run-id'] === undefined ? {} : {runId: flags['run-id']}),
    })
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
    else for (const pod of result.pods) process.stdout.write(`${renderCleanupLine(pod)}\n`)
    const failed = result.pods.filter((p) => p.action === 'failed').length
    const where = flags['debug-namespace'] ? `namespace ${flags['debug-namespace']}` : 'any namespace'
    if (!flags.json) {
      if (result.pods.length === 0) this.note(`no knet pods in ${where}`)
      else if (flags['dry-run']) this.note(`${result.pods.length} knet pod(s) would be deleted (dry run: nothing was deleted)`)
      else this.note(`${result.pods.length - failed} knet pod(s) deleted${failed ? `, ${failed} could not be` : ''}`)
    }
    if (failed > 0) process.exitCode = ExitCode.Gather
  }
}

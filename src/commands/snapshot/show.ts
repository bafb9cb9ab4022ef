import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {buildNodeDatapath} from '../../lib/model/node.js'
import {nodeView} from '../../lib/model/node-view.js'
import {EXIT_CODES_HELP} from '../../lib/report/exit-codes.js'
import {renderSnapshotShow, snapshotShow} from '../../lib/render/snapshot-show.js'
import {readSnapshot} from '../../lib/snapshot/read.js'

export default class SnapshotShow extends BaseCommand {
  static override summary = 'Show what a snapshot holds: nodes, evidence read, lines that could not be parsed.'

  static override description = `Reads a snapshot (plain or gzip) through today's parsers and reports, per node, each catalogue command's status and how many items it yielded, plus the cluster objects and collection errors.

${EXIT_CODES_HELP}`

  static override examples = ['<%= config.bin %> snapshot show host.json.gz', '<%= config.bin %> snapshot show lab.json --json']

  static override args = {
    file: Args.string({description: 'snapshot file written by `knet snapshot`', required: true}),
  }

  static override flags = {
    json: Flags.boolean({description: 'print the result as JSON on stdout'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(SnapshotShow)
    const snapshot = await readSnapshot(args.file)
    const view = snapshotShow(snapshot, args.file, snapshot.nodes.map((n) => nodeView(buildNodeDatapath(n))))
    process.stdout.write(flags.json ? `${JSON.stringify(view, null, 2)}\n` : `${renderSnapshotShow(view)}\n`)
  }
}

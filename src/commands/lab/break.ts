import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {LAB_EXIT_CODES_HELP, labNameFlag} from '../../lib/lab/flags.js'
import {renderBreak, renderCatalogue} from '../../lib/lab/faults/render.js'
import {breakFault, faultCatalogue} from '../../lib/lab/faults/run.js'
import {badInput} from '../../lib/report/errors.js'

export default class LabBreak extends BaseCommand {
  static override summary = 'Apply a documented, reversible fault to a running lab (knet lab heal undoes it).'

  static override description = `Each fault emulates one real-world failure by changing the lab's Linux state (and, where a real controller would, its API objects), and documents the probe outcomes it causes. --list shows every fault with what it emulates and what a probe shows. A fault can be applied once at a time; "knet lab heal" restores exactly what was there.

${LAB_EXIT_CODES_HELP}`

  static override examples = [
    '<%= config.bin %> lab break --list',
    '<%= config.bin %> lab break missing-route --node node-1 --target node-2',
    '<%= config.bin %> lab break netpol-deny --target web-2-2',
    '<%= config.bin %> lab break missing-route --ip-family 6',
  ]

  static override args = {
    fault: Args.string({description: 'fault id (see --list)', required: false}),
  }

  static override flags = {
    ...labNameFlag,
    list: Flags.boolean({description: 'list the faults: what each emulates and what a probe shows'}),
    node: Flags.string({description: 'node the fault acts on (default: the fault\'s own, see --list)'}),
    target: Flags.string({description: 'what the fault acts on: a node, pod or Service depending on the fault (see --list)'}),
    'ip-family': Flags.option({options: ['4', '6'] as const, aliases: ['family'], description: "per-family faults (see --list): break IPv4 or IPv6 only (default: the lab's first family)"})(),
    json: Flags.boolean({description: 'print the result as JSON on stdout'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(LabBreak)
    if (flags.list) {
      const catalogue = faultCatalogue()
      process.stdout.write(flags.json ? `${JSON.stringify({schemaVersion: 1, faults: catalogue}, null, 2)}\n` : `${renderCatalogue(catalogue)}\n`)
      return
    }
    if (!args.fault) throw badInput('give a FAULT to apply', 'knet lab break --list shows them')
    const result = await breakFault(flags.name, args.fault, {node: flags.node, target: flags.target, ...(flags['ip-family'] ? {family: flags['ip-family'] === '6' ? (6 as const) : (4 as const)} : {})})
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
    else this.note(renderBreak(result))
  }
}

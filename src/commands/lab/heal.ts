import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {LAB_EXIT_CODES_HELP, labNameFlag} from '../../lib/lab/flags.js'
import {renderHeal} from '../../lib/lab/faults/render.js'
import {healFaults} from '../../lib/lab/faults/run.js'

export default class LabHeal extends BaseCommand {
  static override summary = 'Undo faults applied with knet lab break: one, or all of them.'

  static override description = `Restores exactly what "knet lab break" changed (routes, sysctls, links, filter and nat rules, API objects, responders), using what the state file recorded. Without FAULT every applied fault is healed, last applied first. Healing a fault that is not applied does nothing.

${LAB_EXIT_CODES_HELP}`

  static override examples = ['<%= config.bin %> lab heal', '<%= config.bin %> lab heal missing-route --name demo']

  static override args = {
    fault: Args.string({description: 'fault id to heal (default: all applied faults)', required: false}),
  }

  static override flags = {
    ...labNameFlag,
    json: Flags.boolean({description: 'print the result as JSON on stdout'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(LabHeal)
    const result = await healFaults(flags.name, args.fault)
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
    else this.note(renderHeal(result))
  }
}

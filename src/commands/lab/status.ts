import {Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {LAB_EXIT_CODES_HELP, labNameFlag} from '../../lib/lab/flags.js'
import {assertLabPlatform} from '../../lib/lab/platform.js'
import {renderLabStatus} from '../../lib/lab/render.js'
import {labStatus} from '../../lib/lab/status.js'

export default class LabStatus extends BaseCommand {
  static override summary = "Show a lab's nodes, pods, IPs and Services, and whether each namespace and process still exists."

  static override description = LAB_EXIT_CODES_HELP

  static override examples = ['<%= config.bin %> lab status', '<%= config.bin %> lab status --name demo -o json']

  static override flags = {
    ...labNameFlag,
    output: Flags.option({char: 'o', options: ['text', 'json'] as const, description: 'output format', default: 'text' as const})(),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(LabStatus)
    assertLabPlatform()
    const status = await labStatus(flags.name)
    if (flags.output === 'json') process.stdout.write(`${JSON.stringify(status, null, 2)}\n`)
    else process.stdout.write(`${renderLabStatus(status)}\n`)
  }
}

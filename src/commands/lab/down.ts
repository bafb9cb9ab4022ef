import {Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {LAB_EXIT_CODES_HELP, labNameFlag} from '../../lib/lab/flags.js'
import {assertLabPlatform} from '../../lib/lab/platform.js'
import {renderLabDown} from '../../lib/lab/render.js'
import {labDown} from '../../lib/lab/teardown.js'
import {ExitCode} from '../../lib/report/exit-codes.js'

export default class LabDown extends BaseCommand {
  static override summary = "Remove a lab: its processes, namespaces and state file (also after a failed or interrupted up)."

  static override description = `Stops the lab's processes (only those whose command line carries the lab's marker) and deletes its namespaces (those recorded in the state file and any named knetlab-NAME-rt, -nN or -nN-pM), then the state file. Idempotent.

${LAB_EXIT_CODES_HELP}`

  static override examples = ['<%= config.bin %> lab down', '<%= config.bin %> lab down --name demo']

  static override flags = {
    ...labNameFlag,
    json: Flags.boolean({description: 'print what was removed as JSON on stdout'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(LabDown)
    assertLabPlatform()
    const result = await labDown(flags.name)
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
    else this.note(renderLabDown(result))
    if (result.failed.length > 0) process.exitCode = ExitCode.Gather
  }
}

import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {parseDuration} from '../../lib/cli/flags.js'
import {LAB_EXIT_CODES_HELP, labNameFlag} from '../../lib/lab/flags.js'
import {labProbe} from '../../lib/lab/probe.js'
import {renderProbe} from '../../lib/lab/render.js'
import {ExitCode} from '../../lib/report/exit-codes.js'

export default class LabProbe extends BaseCommand {
  static override summary = "Send real packets from a lab pod (or node) and report what happened: the lab's ground truth."

  static override description = `SRC is a pod (NAME or pod/NS/NAME) or node/NAME. DST is a pod, node/NAME[:PORT], svc/NS/NAME[:PORT] (its ClusterIP) or IP[:PORT] ([IPv6]:PORT); on a dual-stack lab --ip-family 6 picks the IPv6 address of a pod, node or Service given by name; a node IP with a nodePort is recognised as that Service. TCP and UDP report which pod answered; a Service is probed up to 40 times, stopping once every endpoint has answered. ICMP uses ping with don't-fragment set, so --size finds MTU problems.

${LAB_EXIT_CODES_HELP}`

  static override examples = [
    '<%= config.bin %> lab probe web-1-1 web-2-1',
    '<%= config.bin %> lab probe web-1-1 svc/default/dns -o json',
    '<%= config.bin %> lab probe web-1-1 node/node-2:30080',
    '<%= config.bin %> lab probe web-1-1 web-2-2 --protocol icmp --size 1472',
    '<%= config.bin %> lab probe web-1-1 svc/default/web --ip-family 6',
    '<%= config.bin %> lab probe web-1-1 [fd00:10:244:2::2]:8080',
  ]

  static override args = {
    src: Args.string({description: 'source pod (NAME, pod/NS/NAME) or node/NAME', required: true}),
    dst: Args.string({description: 'destination: pod, node/NAME[:PORT], svc/NS/NAME[:PORT] or IP[:PORT]', required: true}),
  }

  static override flags = {
    ...labNameFlag,
    protocol: Flags.option({options: ['tcp', 'udp', 'icmp'] as const, description: 'default: the port\'s protocol (tcp for a pod, icmp for a bare IP or node)'})(),
    size: Flags.integer({description: 'payload bytes (UDP datagram, or ping -s for ICMP)', min: 0, max: 65_000}),
    attempts: Flags.integer({description: 'attempts (default 1; a Service: up to 40)', min: 1, max: 1000}),
    timeout: Flags.custom<number>({description: 'per-attempt timeout (e.g. 1s, 500ms)', default: 1000, defaultHelp: async () => '1s', parse: async (input) => parseDuration(input)})(),
    'ip-family': Flags.option({options: ['4', '6'] as const, aliases: ['family'], description: "address family for a destination given by name (pod, node/NAME, svc/…); default: the lab's first (IPv4 unless --ip-family ipv6)"})(),
    output: Flags.option({char: 'o', options: ['text', 'json'] as const, description: 'output format', default: 'text' as const})(),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(LabProbe)
    const result = await labProbe(flags.name, {
      source: args.src,
      destination: args.dst,
      protocol: flags.protocol,
      size: flags.size,
      attempts: flags.attempts,
      timeoutMs: flags.timeout,
      ...(flags['ip-family'] ? {family: flags['ip-family'] === '6' ? (6 as const) : (4 as const)} : {}),
    })
    if (flags.output === 'json') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
    else process.stdout.write(`${renderProbe(result)}\n`)
    if (result.outcome !== 'delivered') process.exitCode = ExitCode.Findings
  }
}

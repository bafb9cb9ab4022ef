import {Flags} from '@oclif/core'
import {CHECK_IDS, CHECKS, selectChecks} from '../lib/checks/registry.js'
import {useLabFlag} from '../lib/lab/flags.js'
import {BaseCommand} from '../lib/cli/base-command.js'
import {checkSelectionFlags, clusterFlags, failOnFlag, nodeAccessFlags, nodesFlag, outputFormatFlag, snapshotFlag, verboseFlag} from '../lib/cli/flags.js'
import {terminalProgress} from '../lib/cli/progress-line.js'
import {stdoutLayout} from '../lib/cli/terminal.js'
import {analysisSourceOptions} from '../lib/cli/source-options.js'
import {EXIT_CODES_HELP} from '../lib/report/exit-codes.js'
import {exitCodeFor} from '../lib/report/report.js'

export default class Doctor extends BaseCommand {
  static override summary = 'Run every network check across the cluster and its nodes; report findings with their evidence.'

  static override description = `Checks pod and Service networking end to end — CIDR overlaps, pod IPs, routes and VXLAN peers between nodes, kube-proxy NAT rules against EndpointSlices, stale conntrack, sysctls, FORWARD policy, bridges, veths, MTU, Services and NetworkPolicies — from a live cluster or a snapshot. A check whose evidence is missing is reported as skipped with the reason, never as passed. \`--list\` shows the catalogue.

${EXIT_CODES_HELP}
  A finding at or above --fail-on (exit 1) takes precedence over missing evidence (exit 3):
  3 means nothing gathered fails, but some evidence could not be gathered.
  130/143  --node-access pod interrupted by SIGINT/SIGTERM (its node pods were removed)`

  static override examples = [
    '<%= config.bin %> doctor --snapshot lab.json.gz',
    '<%= config.bin %> doctor --objects dump.yaml --node-access netns --netns-map node-1=ns1,node-2=ns2 -o json',
    '<%= config.bin %> doctor --snapshot prod.json.gz -o junit --fail-on warn > doctor.xml',
    '<%= config.bin %> doctor --list',
  ]

  static override flags = {
    list: Flags.boolean({description: 'print the catalogue of checks (with -o json: every field) and exit'}),
    ...outputFormatFlag,
    ...verboseFlag('table: one row per finding and node, with every evidence line as gathered (default: one row per fault, naming its nodes)'),
    ...failOnFlag,
    ...checkSelectionFlags(CHECK_IDS),
    ...snapshotFlag,
    ...useLabFlag,
    ...clusterFlags,
    ...nodeAccessFlags,
    ...nodesFlag,
    'node-selector': Flags.string({description: 'only nodes whose labels match KEY=VALUE,… (equality only)', helpGroup: 'NODES'}),
    parallel: Flags.integer({description: 'nodes gathered at once', default: 10, min: 1, max: 100, helpGroup: 'NODES'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Doctor)
    // Loaded here, not at the top: `knet --help` and other commands should not pay for them.
    const {catalogueJson} = await import('../lib/render/doctor-json.js')
    const {renderCatalogue} = await import('../lib/render/doctor-table.js')
    if (flags.list) {
      process.stdout.write(flags.output === 'table' ? `${renderCatalogue(CHECKS)}\n` : `${JSON.stringify(catalogueJson(CHECKS), null, 2)}\n`)
      return
    }
    const {parseNodeSelector, resolveAnalysisModel} = await import('../lib/gather/analysis-source.js')
    const {runChecks} = await import('../lib/checks/context.js')
    const {renderDoctorOutput} = await import('../lib/render/doctor-output.js')
    // Progress only for a person watching a terminal; nothing extra in pipes and CI logs.
    const progress = terminalProgress()
    const model = await resolveAnalysisModel({
      ...analysisSourceOptions(flags, {knetVersion: this.config.version, command: ['knet', 'doctor', ...this.argv].join(' '), ...progress}),
      nodes: flags.nodes,
      ...(flags['node-selector'] ? {nodeSelector: parseNodeSelector(flags['node-selector'])} : {}),
    }).finally(() => progress?.stop())
    const checks = selectChecks(flags.only, flags.skip)
    const report = runChecks(model, checks)
    const failOn = flags['fail-on']
    const out = renderDoctorOutput(report, flags.output, {...stdoutLayout(), verbose: flags.verbose, checks, failOn, knetVersion: this.config.version})
    process.stdout.write(out)
    process.exitCode = exitCodeFor(report, failOn)
  }
}

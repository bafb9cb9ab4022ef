import {Flags} from '@oclif/core'
import {BaseCommand} from '../lib/cli/base-command.js'
import {clusterRoleYaml} from '../lib/gather/cluster/rbac.js'
import {EXIT_CODES_HELP} from '../lib/report/exit-codes.js'

export default class Rbac extends BaseCommand {
  static override summary = 'Print the minimal ClusterRole knet needs, as YAML'
  static override description = `Read-only access to nodes, pods, Services, namespaces, EndpointSlices, NetworkPolicies, kube-system DaemonSets and the kube-proxy ConfigMap. Never Secrets. Apply it with kubectl apply -f - and bind it to the user or service account that runs knet.

${EXIT_CODES_HELP}`
  static override examples = ['<%= config.bin %> rbac | kubectl apply -f -', '<%= config.bin %> rbac --name knet-readonly']
  static override flags = {
    name: Flags.string({description: 'metadata.name of the ClusterRole', default: 'knet-reader'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Rbac)
    process.stdout.write(clusterRoleYaml({name: flags.name}))
  }
}

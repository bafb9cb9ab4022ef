import {Flags} from '@oclif/core'
import {BaseCommand} from '../lib/cli/base-command.js'
import {NODE_ACCESS_MODES} from '../lib/cli/flags.js'
import {clusterRoleYaml, ruleGroupsFor} from '../lib/gather/cluster/rbac.js'
import {EXIT_CODES_HELP} from '../lib/report/exit-codes.js'

export default class Rbac extends BaseCommand {
  static override summary = 'Print the minimal ClusterRole knet needs, as YAML'
  static override description = `Read-only access to nodes, pods, Services, namespaces, EndpointSlices, NetworkPolicies, ServiceCIDRs, DaemonSets and the kube-proxy ConfigMap. Never Secrets. Apply it with kubectl apply -f - and bind it to the user or service account that runs knet.

What each --node-access mode adds:
  pod     pods: create, delete, get, list (knet's node pods; also knet cleanup) and pods/exec: create, get
  agent   pods/exec: create, get (into the existing agent pods)
  ssh, docker, local, netns, none   nothing (they do not reach nodes through the API)
--probe adds what trace --probe needs on a live cluster: pods/exec (create, get) into the source pod and pods/ephemeralcontainers (patch) for the debug container added to a pod that has no tool to send the packet with.
pods/exec has get for API servers before 1.31, which authorise the WebSocket exec as get.

${EXIT_CODES_HELP}`
  static override examples = ['<%= config.bin %> rbac | kubectl apply -f -', '<%= config.bin %> rbac --node-access pod --name knet-pod-access', '<%= config.bin %> rbac --node-access pod --probe', '<%= config.bin %> rbac --name knet-readonly']
  static override flags = {
    name: Flags.string({description: 'metadata.name of the ClusterRole', default: 'knet-reader'}),
    'node-access': Flags.option({options: NODE_ACCESS_MODES, description: "add what this node access mode needs (pod: knet's node pods; agent: exec into agents)"})(),
    probe: Flags.boolean({description: 'add what trace --probe needs: pods/exec into the source pod, pods/ephemeralcontainers patch'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Rbac)
    process.stdout.write(clusterRoleYaml({name: flags.name, groups: ruleGroupsFor(flags['node-access'], {probe: flags.probe})}))
  }
}

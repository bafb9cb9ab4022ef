/** Flags every `knet lab` command shares (kept with the lab; see render.ts for why not in cli/). */
import {Flags} from '@oclif/core'
import {LAB_DEFAULTS, validateLabName} from './plan.js'

export const labNameFlag = {
  name: Flags.custom<string>({
    description: 'lab name: namespaces are knetlab-NAME-*, so labs with different names coexist',
    default: LAB_DEFAULTS.name,
    parse: async (input) => validateLabName(input),
  })(),
}

export const LAB_EXIT_CODES_HELP = `EXIT CODES
  0  success (probe: delivered)
  1  probe: refused, timed out, partial or error
  2  usage error; not Linux or not root; the lab already exists (up) or does not (status, probe)
  3  a command that builds or removes the lab failed
  130  interrupted (up): everything built so far was removed`

/**
 * `--lab NAME` on snapshot (and, as they land, trace and doctor): use that lab's kubeconfig and
 * netns node access with its node map, instead of --kubeconfig/--objects and --netns-map.
 */
export const useLabFlag = {
  lab: Flags.custom<string>({
    description: "use a lab made by `knet lab up --name NAME`: its API (kubeconfig) and its nodes through netns",
    parse: async (input) => validateLabName(input),
    exclusive: ['kubeconfig', 'context', 'objects', 'netns-map', 'node-access'],
    helpGroup: 'CLUSTER',
  })(),
}

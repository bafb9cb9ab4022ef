import {isSafeName} from '../../cli/flags.js'
import type {CatalogCommand} from './catalog.js'
import {runArgv, type ExecOutcome, type NodeTransport} from './transport.js'

// `ip netns exec` reports a missing binary itself, after the namespace was entered.
const EXEC_FAILED = /exec of ".*" failed: No such file or directory/

/** A network namespace on this host playing a node (the lab, tests): `ip netns exec NAME argv…`. */
export class NetnsTransport implements NodeTransport {
  readonly kind = 'netns'
  readonly target: string

  constructor(netns: string) {
    if (!isSafeName(netns)) throw new Error(`invalid network namespace name: ${JSON.stringify(netns)}`)
    this.target = netns
  }

  exec(command: CatalogCommand, signal?: AbortSignal): Promise<ExecOutcome> {
    return runArgv(command, ['ip', 'netns', 'exec', this.target, ...command.argv], signal, EXEC_FAILED)
  }
}

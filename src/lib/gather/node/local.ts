import type {CatalogCommand} from './catalog.js'
import {runArgv, type ExecOutcome, type NodeTransport} from './transport.js'

/** This host, as it is: for running knet on a node itself. */
export class LocalTransport implements NodeTransport {
  readonly kind = 'local'
  readonly target = 'localhost'

  exec(command: CatalogCommand, signal?: AbortSignal): Promise<ExecOutcome> {
    return runArgv(command, [...command.argv], signal)
  }
}

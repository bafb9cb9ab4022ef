import {accessSync, constants, statSync} from 'node:fs'
import {join} from 'node:path'

/**
 * Where a local client program (ssh, docker) would be found, on the same PATH the transports run
 * it with (transport.ts adds the sbin folders); undefined when it is not installed. Checked once
 * per run, so a missing client is one clear error per node rather than one per command.
 */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin']
  for (const dir of dirs) {
    const file = join(dir, name)
    try {
      if (!statSync(file).isFile()) continue
      accessSync(file, constants.X_OK)
      return file
    } catch {
      // not here
    }
  }
  return undefined
}

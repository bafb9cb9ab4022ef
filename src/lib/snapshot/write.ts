import {writeFile, rename} from 'node:fs/promises'
import {gzipSync} from 'node:zlib'
import {badInput} from '../report/errors.js'
import type {Snapshot} from './schema.js'

/** Serialise; gzip when the name ends in .gz. */
export function encodeSnapshot(snapshot: Snapshot, gzip: boolean): Buffer {
  const json = Buffer.from(`${JSON.stringify(snapshot)}\n`, 'utf8')
  return gzip ? gzipSync(json) : json
}

/** Write atomically (temp file + rename) so an interrupted run never leaves half a snapshot. */
export async function writeSnapshot(snapshot: Snapshot, path: string): Promise<number> {
  const bytes = encodeSnapshot(snapshot, path.endsWith('.gz'))
  const tmp = `${path}.tmp-${process.pid}`
  try {
    await writeFile(tmp, bytes)
    await rename(tmp, path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw badInput(`cannot write snapshot ${path}: ${code ?? String(error)}`)
  }
  return bytes.length
}

import {readFile} from 'node:fs/promises'
import {gunzipSync} from 'node:zlib'
import {badInput} from '../report/errors.js'
import {SNAPSHOT_KIND, SNAPSHOT_SCHEMA_VERSION, snapshotSchema, type Snapshot} from './schema.js'

/** Read a snapshot file (plain or gzip, told by its magic bytes, not its name). Errors are one line, exit 2. */
export async function readSnapshot(path: string): Promise<Snapshot> {
  // The file's bytes are only referenced inside readText, so they can be collected before
  // JSON.parse runs: on a 5,000-node snapshot that is the file's size off the peak memory.
  return decodeText(await readText(path), path)
}

async function readText(path: string): Promise<string> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw badInput(`cannot read snapshot ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(error)}`)
  }
  return textOf(bytes, path)
}

function textOf(bytes: Buffer, label: string): string {
  try {
    return isGzip(bytes) ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8')
  } catch {
    throw badInput(`${label} is not a knet snapshot: corrupt gzip data`)
  }
}

export function decodeSnapshot(bytes: Buffer, label: string): Snapshot {
  return decodeText(textOf(bytes, label), label)
}

function decodeText(text: string, label: string): Snapshot {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    throw badInput(`${label} is not a knet snapshot: invalid JSON (${(error as Error).message.split('\n')[0]})`)
  }
  if (typeof doc !== 'object' || doc === null || (doc as {kind?: unknown}).kind !== SNAPSHOT_KIND) {
    throw badInput(`${label} is not a knet snapshot: missing "kind": "${SNAPSHOT_KIND}"`)
  }
  const version = (doc as {schemaVersion?: unknown}).schemaVersion
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw badInput(`${label} is not a knet snapshot: schemaVersion is missing or not a positive integer`)
  }
  if (version > SNAPSHOT_SCHEMA_VERSION) {
    throw badInput(
      `${label} has snapshot schemaVersion ${version}, newer than this knet reads (${SNAPSHOT_SCHEMA_VERSION})`,
      'upgrade knet to read it',
    )
  }
  const parsed = snapshotSchema.safeParse(doc)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue ? issue.path.map(String).join('.') || '(top level)' : '(unknown)'
    throw badInput(`${label} is not a valid knet snapshot: at ${where}: ${issue?.message ?? 'invalid'}`)
  }
  return parsed.data
}

function isGzip(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b
}

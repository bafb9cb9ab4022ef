import {closeSync, createReadStream, openSync, readSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {pipeline} from 'node:stream/promises'
import {createGunzip, gunzipSync} from 'node:zlib'
import {badInput} from '../report/errors.js'
import {NotScanned, parseWithLists, type ReadMore} from './json-lists.js'
import {SNAPSHOT_KIND, SNAPSHOT_SCHEMA_VERSION, snapshotSchema, type Snapshot} from './schema.js'

/** A list under cluster.objects that a reader can hand over one object at a time. */
export type ObjectList = 'pods' | 'services' | 'endpointSlices'

/**
 * A taker of API objects, for a caller that builds what it needs from each object as it is parsed
 * (doctor's model) instead of holding every raw object: the lists it names come back empty in the
 * snapshot, and each of their objects goes to `take` once, in file order.
 */
export interface ObjectTaker {
  lists: readonly ObjectList[]
  /** Called before the first object is handed over, and again (forget what was taken) before all are handed over anew. */
  start(): void
  take(list: ObjectList, object: unknown, index: number): void
}

/** Read a snapshot file (plain or gzip, told by its magic bytes, not its name). Errors are one line, exit 2. */
export async function readSnapshot(path: string, taker?: ObjectTaker): Promise<Snapshot> {
  // For a taker, the file is scanned through a small window: it is never held whole (see scanFile).
  const scanned = taker ? await scanFile(path, taker) : undefined
  if (scanned) return validate(scanned.doc, path)
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (error) {
    throw cannotRead(path, error)
  }
  return validate(parseDocument(bytes, path, taker, scanned === undefined), path)
}

function cannotRead(path: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code
  return badInput(`cannot read snapshot ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(error)}`)
}

/**
 * The document, scanned from the file through a window; null when the scan gave up (the caller
 * parses the whole text). A gzip file is inflated first, into the pieces the stream yields, and
 * each piece is let go once the window has moved past it.
 */
async function scanFile(path: string, taker: ObjectTaker): Promise<{doc: unknown} | null> {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (error) {
    throw cannotRead(path, error)
  }
  let gzip = false
  try {
    let position = 0
    const read: ReadMore = (into, offset, length) => {
      try {
        const n = readSync(fd, into, offset, length, position)
        position += n
        return n
      } catch (error) {
        throw cannotRead(path, error)
      }
    }
    const magic = Buffer.alloc(2)
    gzip = read(magic, 0, 2) === 2 && isGzip(magic)
    if (!gzip) {
      position = 0
      return {doc: scanLists(read, taker)}
    }
  } catch (error) {
    if (error instanceof NotScanned) return null
    throw error
  } finally {
    closeSync(fd)
  }
  const pieces: Buffer[] = []
  try {
    await pipeline(createReadStream(path), createGunzip(), async (inflated: AsyncIterable<Buffer>) => {
      for await (const piece of inflated) pieces.push(piece)
    })
  } catch {
    throw badInput(`${path} is not a knet snapshot: corrupt gzip data`)
  }
  try {
    return {doc: scanLists(piecesReader(pieces), taker)}
  } catch (error) {
    if (error instanceof NotScanned) return null
    throw error
  }
}

/** Reads through `pieces` in order, emptying each one's slot once it is read. */
function piecesReader(pieces: Buffer[]): ReadMore {
  let index = 0
  let at = 0
  return (into, offset, length) => {
    let n = 0
    while (n < length && index < pieces.length) {
      const piece = pieces[index] as Buffer
      const copied = piece.copy(into, offset + n, at, Math.min(piece.length, at + length - n))
      n += copied
      at += copied
      if (at === piece.length) {
        pieces[index++] = EMPTY
        at = 0
      }
    }
    return n
  }
}

const EMPTY = Buffer.alloc(0)

function scanLists(source: Buffer | ReadMore, taker: ObjectTaker): unknown {
  const paths = new Map(taker.lists.map((list) => [`cluster.objects.${list}`, list]))
  taker.start()
  return parseWithLists(source, [...paths.keys()], (path, object, index) => taker.take(paths.get(path) as ObjectList, object, index))
}

/** A snapshot from bytes already in memory (plain or gzip). */
export function decodeSnapshot(bytes: Buffer, label: string, taker?: ObjectTaker): Snapshot {
  return validate(parseDocument(bytes, label, taker), label)
}

/** `scan`: false when a scan of these bytes already gave up. */
function parseDocument(bytes: Buffer, label: string, taker: ObjectTaker | undefined, scan = true): unknown {
  try {
    if (isGzip(bytes)) bytes = gunzipSync(bytes)
  } catch {
    throw badInput(`${label} is not a knet snapshot: corrupt gzip data`)
  }
  if (taker && scan) {
    try {
      return scanLists(bytes, taker)
    } catch (error) {
      if (!(error instanceof NotScanned)) throw error
    }
  }
  let doc: unknown
  try {
    doc = JSON.parse(bytes.toString('utf8'))
  } catch (error) {
    throw badInput(`${label} is not a knet snapshot: invalid JSON (${(error as Error).message.split('\n')[0]})`)
  }
  if (taker) {
    taker.start()
    handOver(doc, taker)
  }
  return doc
}

/** The whole-document path's equivalent of the scan: the taker's lists handed over and emptied. */
function handOver(doc: unknown, taker: ObjectTaker): void {
  const objects = (doc as {cluster?: {objects?: Record<string, unknown>}} | null)?.cluster?.objects
  if (typeof objects !== 'object' || objects === null) return
  for (const list of taker.lists) {
    const items = objects[list]
    if (!Array.isArray(items)) continue
    items.forEach((object, index) => taker.take(list, object, index))
    objects[list] = []
  }
}

function validate(doc: unknown, label: string): Snapshot {
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

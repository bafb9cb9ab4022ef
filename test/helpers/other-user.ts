/**
 * For tests that run something as another user (`nobody`, a throwaway ssh user): that user must be
 * able to reach every file involved, and a checkout need not be readable by anyone but its owner
 * (CI clones into a 0700 temp folder; Node itself may live inside the checkout, as CI's second
 * Node does). So nothing such a user reads may come from the checkout's path or from a temp
 * folder whose ancestors are closed: it is made in a folder others can reach, and the CLI is
 * copied there.
 */
import {execFile} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, statSync} from 'node:fs'
import {cp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

const run = promisify(execFile)

const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url))

/** Whether a user who is not the owner can walk down to `path` (o+x on `path` and every folder above it). */
export function othersCanReach(path: string): boolean {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    try {
      if ((statSync(dir).mode & 0o001) === 0) return false
    } catch {
      return false
    }
    if (dir === dirname(dir)) return true
  }
}

/** Where to make folders other users must reach: the temp folder if they can reach it, else /tmp, else undefined. */
export function baseForOtherUsers(): string | undefined {
  return [tmpdir(), '/tmp'].find(othersCanReach)
}

/** A new empty folder (mode 0755) any user can reach; undefined when there is no such place (see baseForOtherUsers). */
export function tempDirForOtherUsers(prefix: string): string | undefined {
  const base = baseForOtherUsers()
  if (base === undefined) return undefined
  const dir = mkdtempSync(join(base, prefix))
  chmodSync(dir, 0o755)
  return dir
}

/**
 * The built CLI as npm would install it — package.json, what its "files" lists (bin, dist, …) and
 * node_modules — plus the Node binary running this test, in `dir` (which others can reach): returns
 * the argv that runs it. Needs `npm run build` first, as every CLI test does. Files are hard links
 * when `dir` is on the checkout's file system and every file is readable by others (instant, no
 * space); otherwise real copies, opened up — never a chmod through a hard link, which would change
 * the checkout's own files.
 */
export async function installCliCopy(dir: string): Promise<{node: string; run: string}> {
  const pkg = JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8')) as {files?: string[]}
  const entries = ['package.json', ...(pkg.files ?? []), 'node_modules'].filter((entry) => existsSync(join(CHECKOUT, entry)))
  // Asynchronous throughout: copying node_modules on a loaded machine takes long enough to starve
  // the vitest worker's own messages if it blocked.
  const place = async (link: boolean): Promise<void> => {
    const put = async (from: string, to: string): Promise<void> => {
      mkdirSync(dirname(to), {recursive: true})
      if (link) await run('cp', ['-al', from, to])
      else await cp(from, to, {recursive: true, verbatimSymlinks: true})
    }
    // realpath: a symlinked node_modules (a worktree sharing one) is copied, not linked to.
    for (const entry of entries) await put(realpathSync(join(CHECKOUT, entry)), join(dir, entry))
    await put(realpathSync(process.execPath), join(dir, 'node'))
  }
  let linked = true
  try {
    await place(true)
    // The folders are new either way, so opening them up changes nothing in the checkout.
    await run('find', [dir, '-type', 'd', '-exec', 'chmod', 'o+rx', '{}', '+'])
    const {stdout: closed} = await run('find', [dir, '-type', 'f', '!', '-perm', '-o=r', '-print', '-quit'])
    linked = closed === '' && (statSync(join(dir, 'node')).mode & 0o001) !== 0
  } catch {
    linked = false // another file system: no hard links
  }
  if (!linked) {
    for (const entry of [...entries, 'node']) await rm(join(dir, entry), {recursive: true, force: true})
    await place(false)
    await run('chmod', ['-R', 'o+rX', dir])
  }
  return {node: join(dir, 'node'), run: join(dir, 'bin', 'run.js')}
}

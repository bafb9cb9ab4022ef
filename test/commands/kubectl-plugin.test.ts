/**
 * knet as a kubectl plugin, installed as a user installs it: `npm pack`, then `npm install -g` of
 * the tarball into a temporary prefix (dependencies from npm's cache, else the registry), so the
 * prefix's bin/ holds `knet` and `kubectl-knet`; then the real kubectl (`npm run k8s:build`, else
 * one on PATH) finds `kubectl-knet` on PATH and runs `kubectl knet doctor --help`. Also the krew
 * manifest in krew/knet.yaml, which cannot name a real release yet.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {execa} from 'execa'
import {parse} from 'yaml'
import {kubernetesDir} from '../helpers/kubernetes.js'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const pjson = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {version: string; bin: Record<string, string>}
const dir = mkdtempSync(join(tmpdir(), 'knet-plugin-'))
const prefix = join(dir, 'prefix')
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function kubectl(): string | undefined {
  const built = kubernetesDir()
  if (built && existsSync(join(built, 'kubectl'))) return join(built, 'kubectl')
  const found = spawnSync('sh', ['-c', 'command -v kubectl'], {encoding: 'utf8'})
  return found.status === 0 ? found.stdout.trim() : undefined
}
const KUBECTL = kubectl()

/** Why the package could not be installed for a reason outside knet (no registry, cold cache), else undefined. */
let notInstalled: string | undefined

// Awaited child processes, never spawnSync: npm pack and install take minutes on a loaded machine, and a
// worker blocked that long misses vitest's replies (helpers/breathe.ts).
beforeAll(async () => {
  await execa('npm', ['pack', '--pack-destination', dir, '--silent'], {cwd: repo})
  const tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz')) ?? 'missing.tgz')
  const r = await execa('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], {reject: false})
  if (r.exitCode === 0) return
  if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|ENOTCACHED/.test(r.stderr)) {
    notInstalled = `npm could not fetch knet's dependencies (no registry, and not in npm's cache): ${r.stderr.split('\n')[0]}`
    return
  }
  throw new Error(`npm install -g of the packed tarball failed:\n${r.stderr}`)
}, 900_000)

/** PATH as a user's after `npm install -g`: the prefix's bin first, then node and kubectl. */
function userPath(...dirs: string[]): string {
  return [join(prefix, 'bin'), ...dirs, dirname(process.execPath), '/usr/bin', '/bin'].join(':')
}

async function run(argv: string[], path: string): Promise<{status: number | undefined; stdout: string; stderr: string}> {
  const r = await execa(argv[0] as string, argv.slice(1), {env: {PATH: path, HOME: dir, NO_COLOR: '1'}, extendEnv: false, reject: false, timeout: 120_000})
  return {status: r.exitCode, stdout: r.stdout, stderr: r.stderr}
}

describe('npm install -g puts knet and kubectl-knet on PATH', () => {
  it('both executables, each a working knet', async (ctx) => {
    if (notInstalled) ctx.skip(notInstalled)
    expect(readdirSync(join(prefix, 'bin')).sort()).toEqual(['knet', 'kubectl-knet'])
    const version = await run(['kubectl-knet', '--version'], userPath())
    expect(version.stdout).toMatch(new RegExp(`^knet/${pjson.version.replace(/\./g, '\\.')} `))
    const help = await run(['kubectl-knet', 'doctor', '--help'], userPath())
    expect(help.status).toBe(0)
    expect(help.stdout).toContain('$ knet doctor')
    // The completion plugin travels with the package.
    expect((await run(['knet', 'autocomplete', '--help'], userPath())).status).toBe(0)
  })
})

describe.skipIf(!KUBECTL)(`kubectl finds the plugin${KUBECTL ? '' : ' (skipped: no kubectl — run `npm run k8s:build` or put kubectl on PATH)'}`, () => {
  const kubectlDir = dirname(KUBECTL ?? '/')

  it('kubectl knet doctor --help', async (ctx) => {
    if (notInstalled) ctx.skip(notInstalled)
    const r = await run(['kubectl', 'knet', 'doctor', '--help'], userPath(kubectlDir))
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout.split('\n')[0]).toBe('Run every network check across the cluster and its nodes; report findings with their evidence.')
    const list = await run(['kubectl', 'plugin', 'list'], userPath(kubectlDir))
    expect(list.stdout).toContain(join(prefix, 'bin', 'kubectl-knet'))
  })

  it("exit codes pass through kubectl: a usage error is knet's 2", async (ctx) => {
    if (notInstalled) ctx.skip(notInstalled)
    const r = await run(['kubectl', 'knet', 'doctor', '--fail-on', 'never'], userPath(kubectlDir))
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^knet: /)
  })
})

describe('krew/knet.yaml', () => {
  const manifest = parse(readFileSync(join(repo, 'krew', 'knet.yaml'), 'utf8')) as {
    apiVersion: string
    kind: string
    metadata: {name: string}
    spec: {version: string; shortDescription: string; platforms: {uri: string; sha256: string; bin: string; selector: unknown}[]}
  }

  it('is a krew Plugin named knet whose bin is the package’s kubectl-knet', () => {
    expect(manifest).toMatchObject({apiVersion: 'krew.googlecontainertools.github.com/v1alpha2', kind: 'Plugin', metadata: {name: 'knet'}})
    expect(manifest.spec.version).toBe(`v${pjson.version}`)
    for (const p of manifest.spec.platforms) {
      expect(`./${p.bin}`).toBe(pjson.bin['kubectl-knet'])
      expect(p.sha256).toMatch(/^[0-9a-f]{64}$/)
      expect(p.uri).toMatch(/^https:\/\//)
    }
  })

  it('says its release address and checksum are placeholders (there is no release yet)', () => {
    const text = readFileSync(join(repo, 'krew', 'knet.yaml'), 'utf8')
    expect(text).toContain('NOT READY TO SUBMIT')
    for (const p of manifest.spec.platforms) {
      expect(p.uri).toContain('.invalid/')
      expect(p.sha256).toBe('0'.repeat(64))
    }
  })
})

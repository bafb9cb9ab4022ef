/**
 * `npm run k8s:build` fails in one line naming what is missing: Go, or the module proxy. (The
 * build itself is exercised by every real-lab suite, which runs the programs it builds.)
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

const script = new URL('../../scripts/k8s-build.js', import.meta.url).pathname
const scratch = mkdtempSync(join(tmpdir(), 'knet-k8s-build-'))
afterAll(() => rmSync(scratch, {recursive: true, force: true}))

function build(env: NodeJS.ProcessEnv): {status: number | null; stdout: string; stderr: string} {
  const r = spawnSync(process.execPath, [script], {encoding: 'utf8', env: {KNET_K8S_CACHE: join(scratch, 'cache'), HOME: scratch, ...env}})
  return {status: r.status, stdout: r.stdout, stderr: r.stderr}
}

describe('npm run k8s:build without what it needs', () => {
  it('without Go on PATH: exit 1, one line that says so, nothing on stdout', () => {
    const r = build({PATH: '/nonexistent'})
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^k8s:build: go is not on PATH/)
  })

  const path = `${process.env.PATH ?? ''}:/usr/local/go/bin`
  const hasGo = spawnSync('go', ['version'], {env: {...process.env, PATH: path}}).status === 0
  it.skipIf(!hasGo)(`without the module proxy: exit 1, one line naming the modules and GOPROXY${hasGo ? '' : ' [skipped: needs Go]'}`, () => {
    const r = build({PATH: path, GOPROXY: 'off', GOMODCACHE: join(scratch, 'modcache'), GOCACHE: join(scratch, 'gocache')})
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^k8s:build: cannot download the Go modules of test\/kubernetes.*GOPROXY=off/)
  })
})

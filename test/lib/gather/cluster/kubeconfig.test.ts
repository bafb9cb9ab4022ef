import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {kubeconfigYaml} from '../../../../src/lib/apiserver/kubeconfig.js'
import {startApiServer} from '../../../../src/lib/apiserver/server.js'
import {gatherFrom} from '../../../../src/lib/gather/cluster/gather.js'
import {clientNodeSource} from '../../../../src/lib/gather/cluster/client.js'
import {resolveKubeconfig} from '../../../../src/lib/gather/cluster/kubeconfig.js'
import {KnetError} from '../../../../src/lib/report/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'knet-kc-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const first = file('a.yaml', kubeconfigYaml({server: 'https://10.0.0.1:6443', cluster: 'alpha', user: 'alpha-user', context: 'alpha', token: 'a'}))
const second = file('b.yaml', kubeconfigYaml({server: 'https://10.0.0.2:6443', cluster: 'beta', user: 'beta-user', context: 'beta', token: 'b'}))

function thrown(fn: () => unknown): KnetError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(KnetError)
    return error as KnetError
  }
  throw new Error('expected a KnetError')
}

describe('resolveKubeconfig (kubectl loading rules)', () => {
  it('KUBECONFIG with two files: merged, first current-context wins', () => {
    const r = resolveKubeconfig({env: {KUBECONFIG: [first, second].join(delimiter)}})
    expect(r.context).toBe('alpha')
    expect(r.server).toBe('https://10.0.0.1:6443')
    expect(r.files).toEqual([first, second])
    expect(r.kc.getContexts().map((c) => c.name)).toEqual(['alpha', 'beta'])
  })

  it('--context selects a context from the second file', () => {
    const r = resolveKubeconfig({context: 'beta', env: {KUBECONFIG: [first, second].join(delimiter)}})
    expect(r.context).toBe('beta')
    expect(r.server).toBe('https://10.0.0.2:6443')
    expect(r.kc.getCurrentUser()?.name).toBe('beta-user')
  })

  it('first definition of a name wins, later duplicates are ignored (client-node would throw)', () => {
    const dup = file('dup.yaml', kubeconfigYaml({server: 'https://10.9.9.9:6443', cluster: 'alpha', user: 'alpha-user', context: 'alpha'}))
    const r = resolveKubeconfig({env: {KUBECONFIG: [first, dup].join(delimiter)}})
    expect(r.server).toBe('https://10.0.0.1:6443')
  })

  it('missing files in KUBECONFIG are skipped; an empty current-context defers to the next file', () => {
    const noCurrent = file('nocur.yaml', kubeconfigYaml({server: 'https://10.0.0.3:6443', cluster: 'c', user: 'c', context: 'c', setCurrent: false}))
    const r = resolveKubeconfig({env: {KUBECONFIG: [join(dir, 'absent.yaml'), noCurrent, second].join(delimiter)}})
    expect(r.context).toBe('beta')
    expect(r.files).toEqual([noCurrent, second])
  })

  it('--kubeconfig overrides KUBECONFIG', () => {
    const r = resolveKubeconfig({kubeconfig: second, env: {KUBECONFIG: first}})
    expect(r.context).toBe('beta')
  })

  it('falls back to $HOME/.kube/config', () => {
    const home = join(dir, 'home')
    const kube = join(home, '.kube')
    mkdirSync(kube, {recursive: true})
    writeFileSync(join(kube, 'config'), kubeconfigYaml({server: 'https://10.0.0.4:6443'}))
    const r = resolveKubeconfig({env: {HOME: home}})
    expect(r.server).toBe('https://10.0.0.4:6443')
  })

  it('errors are bad-input one-liners (exit 2)', () => {
    const missing = thrown(() => resolveKubeconfig({kubeconfig: join(dir, 'nope.yaml'), env: {}}))
    expect(missing.kind).toBe('bad-input')
    expect(missing.exitCode).toBe(2)
    expect(missing.oneLine()).toBe(`kubeconfig ${join(dir, 'nope.yaml')} does not exist (check the --kubeconfig path)`)

    const unknown = thrown(() => resolveKubeconfig({context: 'gamma', env: {KUBECONFIG: [first, second].join(delimiter)}}))
    expect(unknown.oneLine()).toBe('context "gamma" is not in the kubeconfig (known: alpha, beta) (pass --context with one of the known contexts)')

    const invalid = thrown(() => resolveKubeconfig({kubeconfig: file('bad.yaml', 'clusters: [unterminated'), env: {}}))
    expect(invalid.kind).toBe('bad-input')
    expect(invalid.message).toMatch(/^kubeconfig .*bad\.yaml could not be read: /)

    const none = thrown(() => resolveKubeconfig({env: {HOME: join(dir, 'empty-home')}}))
    expect(none.oneLine()).toBe(
      'no kubeconfig found ($KUBECONFIG is unset and ~/.kube/config does not exist) (pass --kubeconfig FILE, or --objects FILE to work from kubectl output)',
    )
  })

  it('the merged config reaches the server of the selected context', async () => {
    const server = await startApiServer({objects: [], tls: 'self-signed', token: 't2'})
    try {
      const decoy = file('decoy.yaml', kubeconfigYaml({server: 'https://127.0.0.1:1', cluster: 'decoy', user: 'decoy', context: 'decoy'}))
      const real = file('real.yaml', kubeconfigYaml({server: server.url, caPem: server.caPem, token: 't2', cluster: 'lab', user: 'lab', context: 'lab'}))
      const r = resolveKubeconfig({context: 'lab', env: {KUBECONFIG: [decoy, real].join(delimiter)}})
      const evidence = await gatherFrom(clientNodeSource(r.kc, {server: r.server, context: r.context, timeoutMs: 5000}), {timeoutMs: 5000})
      expect(evidence.context).toBe('lab')
      expect(evidence.server).toBe(server.url)
      // 404s only for what an empty cluster lacks: the kube-proxy ConfigMap and Calico's CRDs.
      expect(server.requests.every((req) => req.status === 200 || req.path.endsWith('/kube-proxy') || req.path.endsWith('/ipamblocks'))).toBe(true)
    } finally {
      await server.close()
    }
  })
})


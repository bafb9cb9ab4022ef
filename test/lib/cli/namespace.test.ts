/** -n/--namespace's default as kubectl takes it: the flag, else the kubeconfig context's namespace, else default. */
import {copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {stringify} from 'yaml'
import {resolveNamespace} from '../../../src/lib/cli/namespace.js'

const dir = mkdtempSync(join(tmpdir(), 'knet-ns-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** A kubeconfig whose contexts name the given namespaces (undefined: none). */
function kubeconfig(name: string, contexts: Record<string, string | undefined>, current: string): string {
  const path = join(dir, name)
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{name: 'c', cluster: {server: 'https://10.0.0.1:6443'}}],
      users: [{name: 'u', user: {token: 't'}}],
      contexts: Object.entries(contexts).map(([ctx, namespace]) => ({name: ctx, context: {cluster: 'c', user: 'u', ...(namespace ? {namespace} : {})}})),
      'current-context': current,
    }),
  )
  return path
}

const shop = kubeconfig('shop.yaml', {shop: 'shop', plain: undefined}, 'shop')
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({HOME: join(dir, 'no-home'), ...extra})

describe('resolveNamespace', () => {
  it("is the current context's namespace when -n is absent (--kubeconfig, $KUBECONFIG, ~/.kube/config)", async () => {
    expect(await resolveNamespace({kubeconfig: shop}, env())).toBe('shop')
    expect(await resolveNamespace({}, env({KUBECONFIG: shop}))).toBe('shop')
    const home = join(dir, 'home')
    mkdirSync(join(home, '.kube'), {recursive: true})
    copyFileSync(shop, join(home, '.kube', 'config'))
    expect(await resolveNamespace({}, {HOME: home})).toBe('shop')
  })

  it("is --context's namespace, and default when that context names none", async () => {
    expect(await resolveNamespace({kubeconfig: shop, context: 'plain'}, env())).toBe('default')
    const other = kubeconfig('other.yaml', {other: 'payments'}, 'other')
    // kubectl's merge: the first file's current-context wins, and --context reaches into the second file.
    expect(await resolveNamespace({}, env({KUBECONFIG: [shop, other].join(delimiter)}))).toBe('shop')
    expect(await resolveNamespace({context: 'other'}, env({KUBECONFIG: [shop, other].join(delimiter)}))).toBe('payments')
  })

  it('-n wins over the context', async () => {
    expect(await resolveNamespace({namespace: 'kube-system', kubeconfig: shop}, env())).toBe('kube-system')
  })

  it('a snapshot, an objects file or a lab is not the context’s cluster: default', async () => {
    for (const source of [{snapshot: 'x.json.gz'}, {objects: 'dump.yaml'}, {lab: 'knet'}]) {
      expect(await resolveNamespace({...source}, env({KUBECONFIG: shop}))).toBe('default')
    }
  })

  it('no usable kubeconfig: default (the gather reports the kubeconfig problem, once)', async () => {
    expect(await resolveNamespace({}, env())).toBe('default')
    expect(await resolveNamespace({kubeconfig: join(dir, 'absent.yaml')}, env())).toBe('default')
    expect(await resolveNamespace({kubeconfig: shop, context: 'nosuch'}, env())).toBe('default')
  })
})

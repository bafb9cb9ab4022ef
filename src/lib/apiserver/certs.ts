/**
 * The committed test certificates. They are read relative to the package root, not to this file,
 * because tsc copies no non-TS files into dist/ and this module runs both from src/ (tsx) and dist/.
 */
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export interface TestCerts {
  ca: string
  cert: string
  key: string
  /** A CA that did not sign the server certificate, for TLS-failure tests. */
  wrongCa: string
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error('knet: cannot find the package root (no package.json above the apiserver module)')
    dir = parent
  }
}

let cached: TestCerts | undefined

export function testCerts(): TestCerts {
  if (cached) return cached
  const dir = join(packageRoot(), 'src', 'lib', 'apiserver', 'certs')
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8')
  cached = {ca: read('ca.crt'), cert: read('server.crt'), key: read('server.key'), wrongCa: read('wrong-ca.crt')}
  return cached
}

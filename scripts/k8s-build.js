#!/usr/bin/env node
/**
 * `npm run k8s:build`: build the upstream Kubernetes programs knet's real-mode lab and its tests
 * run, from the pinned Go modules under test/kubernetes/, into .cache/kubernetes/<version>/bin/,
 * and print that directory (the only thing on stdout, so `$(npm run -s k8s:build)` works).
 *
 *   kube (multi-call) + links  kube-apiserver kube-controller-manager kube-scheduler kube-proxy
 *                              kubectl etcd                        test/kubernetes (k8s.io/kubernetes)
 *   flanneld                   github.com/flannel-io/flannel       test/kubernetes/flannel
 *   flannel (CNI plugin)       containernetworking/plugins v0.9.1  test/kubernetes/cni-flannel
 *   bridge ptp host-local loopback portmap  containernetworking/plugins  test/kubernetes/cni
 *
 * Idempotent: when every binary is there and was built from the same go.mod/go.sum/sources (a
 * stamp file records their hash) it prints the directory at once; otherwise Go's module and build
 * caches make a rebuild cheap. Progress goes to stderr. Any failure is one line naming what is
 * missing, exit 1. Built programs live in .cache/ (gitignored; KNET_K8S_CACHE=DIR puts them in
 * DIR/<version>/bin instead) and are never committed.
 */
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const modules = join(root, 'test', 'kubernetes')

const KUBE_PROGRAMS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'kubectl', 'etcd']
const CNI_PLUGINS = {bridge: 'main/bridge', ptp: 'main/ptp', 'host-local': 'ipam/host-local', loopback: 'main/loopback', portmap: 'meta/portmap'}

const fail = (message) => {
  process.stderr.write(`k8s:build: ${message}\n`)
  process.exit(1)
}
const note = (message) => process.stderr.write(`k8s:build: ${message}\n`)

/** The version a module's go.mod requires of `path` (after its own replace lines, which we don't use for these). */
function required(dir, path) {
  const text = readFileSync(join(dir, 'go.mod'), 'utf8')
  const m = new RegExp(`^\\s*${path.replace(/[.]/g, '\\.')}\\s+(v\\S+)`, 'm').exec(text)
  if (!m) fail(`${relative(root, dir)}/go.mod does not require ${path}`)
  return m[1]
}

const kubeVersion = required(modules, 'k8s.io/kubernetes')
const flannelVersion = required(join(modules, 'flannel'), 'github.com/flannel-io/flannel')
const pluginsVersion = required(join(modules, 'cni'), 'github.com/containernetworking/plugins')
const flannelCniVersion = required(join(modules, 'cni-flannel'), 'github.com/containernetworking/plugins')
// KNET_K8S_CACHE moves the output (tests use it to build nowhere near the real cache).
const bin = join(process.env.KNET_K8S_CACHE || join(root, '.cache', 'kubernetes'), kubeVersion, 'bin')

const go = (args, cwd, cgo = false) =>
  spawnSync('go', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    // local: fail loudly rather than fetch another toolchain; readonly: go.sum is the pin.
    env: {...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: cgo ? '1' : '0', GOFLAGS: '-mod=readonly -buildvcs=false'},
  })

/** Hash of everything a build depends on in the repository (module files and our one main). */
function inputsHash() {
  const h = createHash('sha256')
  const walk = (dir) => {
    for (const entry of readdirSync(dir).sort()) {
      const p = join(dir, entry)
      if (statSync(p).isDirectory()) walk(p)
      else if (/\.(go|mod|sum)$/.test(entry)) h.update(relative(modules, p)).update('\0').update(readFileSync(p)).update('\0')
    }
  }
  walk(modules)
  h.update(readFileSync(fileURLToPath(import.meta.url)))
  return h.digest('hex')
}

const expected = ['kube', ...KUBE_PROGRAMS, 'flanneld', 'flannel', ...Object.keys(CNI_PLUGINS)]
const stampFile = join(bin, '.stamp')
const hash = inputsHash()
if (expected.every((b) => existsSync(join(bin, b))) && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === hash) {
  process.stdout.write(`${bin}\n`)
  process.exit(0)
}

// Preflight: Go itself, a new enough one, a C compiler for flanneld, and the module proxy.
const version = spawnSync('go', ['env', 'GOVERSION'], {encoding: 'utf8'})
if (version.error) fail('go is not on PATH: install Go 1.26 or newer (https://go.dev/doc/install is not reachable from CI; use the machine\'s Go)')
const goVersion = version.stdout.trim()
const [, major, minor] = /^go(\d+)\.(\d+)/.exec(goVersion) ?? []
if (!major || Number(major) < 1 || (Number(major) === 1 && Number(minor) < 26)) fail(`${goVersion || 'go'} is too old: Kubernetes ${kubeVersion} needs Go 1.26 or newer`)

if (spawnSync('gcc', ['--version'], {stdio: 'ignore'}).error) fail('gcc is not on PATH: flanneld is built with cgo (Debian: apt-get install gcc)')

const started = Date.now()
const ldflagsKube = ['-s', '-w']
const [, kMinor] = /^v1\.(\d+)\./.exec(kubeVersion) ?? []
for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
  ldflagsKube.push(`-X ${pkg}.gitVersion=${kubeVersion}`, `-X ${pkg}.gitMajor=1`, `-X ${pkg}.gitMinor=${kMinor}`, `-X ${pkg}.gitTreeState=clean`, `-X ${pkg}.gitCommit=0000000000000000000000000000000000000000`, `-X ${pkg}.buildDate=1970-01-01T00:00:00Z`)
}

const builds = [
  {what: `Kubernetes ${kubeVersion} + etcd (one multi-call binary)`, cwd: modules, out: 'kube', pkg: './cmd/kube', tags: 'selinux,notest,grpcnotrace', ldflags: ldflagsKube},
  // flannel's udp backend is cgo on amd64 (as its own Makefile builds it): gcc is needed here.
  {what: `flanneld ${flannelVersion}`, cwd: join(modules, 'flannel'), out: 'flanneld', pkg: 'github.com/flannel-io/flannel', cgo: true, ldflags: ['-s', '-w', `-X github.com/flannel-io/flannel/pkg/version.Version=${flannelVersion}`]},
  {what: `flannel CNI plugin (containernetworking/plugins ${flannelCniVersion})`, cwd: join(modules, 'cni-flannel'), out: 'flannel', pkg: 'github.com/containernetworking/plugins/plugins/meta/flannel', ldflags: ['-s', '-w']},
  ...Object.entries(CNI_PLUGINS).map(([out, path]) => ({
    what: `CNI ${out} ${pluginsVersion}`,
    cwd: join(modules, 'cni'),
    out,
    pkg: `github.com/containernetworking/plugins/plugins/${path}`,
    ldflags: ['-s', '-w', `-X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=${pluginsVersion}`],
  })),
]

mkdirSync(bin, {recursive: true})
rmSync(stampFile, {force: true})
for (const dir of new Set(builds.map((b) => b.cwd))) {
  const r = go(['mod', 'download'], dir)
  if (r.status !== 0) fail(`cannot download the Go modules of ${relative(root, dir)} (GOPROXY=${process.env.GOPROXY ?? 'default'}): ${firstLine(r.stderr)}`)
}
for (const b of builds) {
  const t = Date.now()
  note(`building ${b.what}…`)
  const args = ['build', '-trimpath', '-o', join(bin, b.out), '-ldflags', b.ldflags.join(' ')]
  if (b.tags) args.push('-tags', b.tags)
  const r = go([...args, b.pkg], b.cwd, b.cgo)
  if (r.status !== 0) fail(`building ${b.what} failed: ${firstLine(r.stderr)}`)
  note(`built ${b.out} in ${((Date.now() - t) / 1000).toFixed(1)} s`)
}
for (const name of KUBE_PROGRAMS) {
  rmSync(join(bin, name), {force: true})
  symlinkSync('kube', join(bin, name))
}
writeFileSync(stampFile, `${hash}\n`)
note(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
process.stdout.write(`${bin}\n`)

function firstLine(text) {
  const lines = String(text ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('go: downloading'))
  return lines.find((l) => /error|cannot|missing|not found|forbidden|refused|no such|requires/i.test(l)) ?? lines[0] ?? 'no output'
}

/**
 * Where the real Kubernetes programs are for the real-mode lab tests: `KNET_KUBERNETES`, else the
 * directory `npm run k8s:build` fills (.cache/kubernetes/<version>/bin, complete once its stamp
 * is written). Without them the real-lab suites are skipped with the reason in their title; also
 * when KNET_SKIP_REAL_LAB says why (CI's Node 24 pass: they ran in its Node 20 pass).
 */
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = fileURLToPath(new URL('../..', import.meta.url))

/** The programs a real lab runs; each must be in the directory. */
export const KUBERNETES_PROGRAMS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'kubectl', 'etcd', 'flanneld', 'flannel', 'bridge', 'ptp', 'host-local', 'loopback', 'portmap'] as const

/** The directory k8s:build writes for the pinned Kubernetes version. */
export function defaultKubernetesDir(): string {
  const gomod = readFileSync(join(repo, 'test', 'kubernetes', 'go.mod'), 'utf8')
  const version = /^\s*k8s\.io\/kubernetes\s+(v\S+)/m.exec(gomod)?.[1] ?? 'unknown'
  return join(repo, '.cache', 'kubernetes', version, 'bin')
}

export function kubernetesDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env.KNET_KUBERNETES?.trim()
  if (fromEnv) return fromEnv
  const dir = defaultKubernetesDir()
  return existsSync(join(dir, '.stamp')) ? dir : undefined
}

/** Why the real-lab suites cannot run here, or undefined when they can. */
export function kubernetesSkipReason(env: NodeJS.ProcessEnv = process.env): string | undefined {
  // CI's second pass (Node 24) sets this: the real programs' suites already ran in its first pass.
  const skip = env.KNET_SKIP_REAL_LAB?.trim()
  if (skip) return `KNET_SKIP_REAL_LAB: ${skip}`
  const dir = kubernetesDir(env)
  if (!dir) return 'no Kubernetes programs: run `npm run k8s:build` (or set KNET_KUBERNETES=DIR)'
  const missing = KUBERNETES_PROGRAMS.filter((p) => !existsSync(join(dir, p)))
  return missing.length > 0 ? `${dir} lacks ${missing.join(', ')} (run \`npm run k8s:build\`)` : undefined
}

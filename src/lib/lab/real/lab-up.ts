/**
 * `knet lab up --kubernetes DIR`: the plan realised by the real upstream programs. The lab's
 * namespaces, names and underlay are the emulated lab's; the state is written by etcd,
 * kube-apiserver, kube-controller-manager, kube-scheduler, one kube-proxy and one flanneld per
 * node, the CNI plugins, and a hollow kubelet. Every process is recorded in the state file as soon
 * as it starts (and carries the lab's marker), so `down` removes it all whatever happens here.
 *
 * Order: underlay → PKI/tokens/configs → etcd, kube-apiserver, relay → flannel RBAC and the
 * ConfigMaps → KCM, scheduler → hollow kubelet registers the Nodes in plan order → (pod CIDRs
 * known: the plan is realised; ptp: each node's kindnet conflist is written, as kindnetd does) →
 * flanneld, kube-proxy → Services, then Pods one by one in plan order → wait for EndpointSlices,
 * kube-proxy rules and flannel routes.
 */
import {mkdir, readFile, rename, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {KnetError} from '../../report/errors.js'
import {run, tryRun} from '../exec.js'
import {UNDERLAY_MTU, type LabPlan} from '../plan.js'
import {MARKER_ENV, MARKER_FLAG, helperScript, spawnDetached} from '../processes.js'
import {labPlanOf, type LabStateStore} from '../state.js'
import {labApi, type LabApi, type Obj} from './api.js'
import {componentVersion, type Component} from './binaries.js'
import type {CniConflist} from './cni.js'
import {
  API_PORT,
  apiServerSpec,
  apiServerUrl,
  controllerManagerSpec,
  etcdSpec,
  flanneldSpec,
  flannelSubnetFile,
  kubeProxyConfigPath,
  kubeProxySpec,
  schedulerSpec,
  type ComponentSpec,
  type LabFiles,
} from './components.js'
import {cniConflist, flannelNetConf, kubeProxyConfig, ptpConflist, schedulerConfig, type ProxyMode} from './configs.js'
import {identityKubeconfig, makeIdentities, tokenAuthFile, type Identity, type IdentityName} from './identities.js'
import type {HollowKubeletConfig} from './kubelet-config.js'
import {responderPid} from './kubelet-status.js'
import {FLANNEL_NAMESPACE, configMaps, flannelRbac, namespaceManifest, workloadManifests} from './manifests.js'
import {makePki} from './pki.js'
import {endpointSlicesMissing, podRoutesMissing, proxyRulesMissing} from './readiness.js'
import {parseVtepMac} from './flannel-annotations.js'
import {sandboxFile, type Sandbox} from './pod-sandbox.js'
import {underlaySteps} from './underlay.js'

/**
 * Hang detectors for each phase of bringing the lab up, not speed limits: a phase takes seconds on
 * an idle machine, but with two CI runs and other tests on two cores (load 30–40) a whole real lab
 * up took over six minutes.
 */
const PHASE_DEADLINE_MS = 300_000

export interface RealLabOptions {
  /** Directory of the upstream binaries. */
  dir: string
  proxyMode: ProxyMode
}

interface Ctx {
  plan: LabPlan
  store: LabStateStore
  labDir: string
  k8s: RealLabOptions
  check: () => void
  progress: (m: string) => void
}

export async function buildRealLab(
  plan0: LabPlan,
  store: LabStateStore,
  labDir: string,
  k8s: RealLabOptions,
  signal: AbortSignal | undefined,
  progress: (m: string) => void,
): Promise<LabPlan> {
  const check = (): void => {
    if (signal?.aborted) throw new Error('aborted')
  }
  const ctx: Ctx = {plan: plan0, store, labDir, k8s, check, progress}
  const name = plan0.params.name
  const versions = await versionsOf(k8s.dir)

  const namespaces = [plan0.router.netns, ...plan0.nodes.map((n) => n.netns)]
  progress(`lab ${name}: creating ${namespaces.length} namespaces and the underlay`)
  await store.update((s) => void s.namespaces.push(...namespaces))
  await run(['ip', '-batch', '-'], {input: `${namespaces.map((ns) => `netns add ${ns}`).join('\n')}\n`})
  for (const step of underlaySteps(plan0)) {
    check()
    if (step.optional) await tryRun(step.argv)
    else await run(step.argv)
  }

  progress(`lab ${name}: certificates, tokens and configuration in ${labDir}`)
  const files = await writeFiles(ctx)
  const start = (spec: ComponentSpec): Promise<number> => startComponent(ctx, spec, versions[spec.component as Component])

  progress(`lab ${name}: starting etcd and kube-apiserver ${versions['kube-apiserver'] ?? ''}`.trimEnd())
  await start(etcdSpec(plan0, files))
  await start(apiServerSpec(plan0, files))
  const url = await startRelay(ctx)
  const kubeconfig = join(labDir, 'kubeconfig')
  await writeFile(kubeconfig, identityKubeconfig(files.identity('admin'), url, files.caPem), {mode: 0o600})
  await writeFile(files.kubeconfigs.kubelet, identityKubeconfig(files.identity('kubelet'), url, files.caPem), {mode: 0o600})
  await store.update((s) => {
    s.kubeconfig = kubeconfig
    s.apiServer = {url}
  })
  const api = labApi(kubeconfig)
  await waitFor(ctx, 'kube-apiserver to serve', PHASE_DEADLINE_MS, async () => ((await api.ready()) ? [] : [`${url}/readyz is not ok (see ${join(labDir, 'kube-apiserver.log')})`]))

  progress(`lab ${name}: flannel RBAC and the kube-proxy / flannel ConfigMaps`)
  await api.ensure(namespaceManifest(FLANNEL_NAMESPACE) as Obj)
  for (const m of flannelRbac(files.identity('flannel').user)) await api.ensure(m as Obj)
  const sharedProxyConf = kubeProxyConfig(plan0, k8s.proxyMode, files.kubeconfigs['kube-proxy'])
  for (const m of configMaps(sharedProxyConf, flannelNetConf(plan0), files.conflists[0] as Record<string, unknown> | undefined)) await api.ensure(m as Obj)

  progress(`lab ${name}: starting kube-controller-manager and kube-scheduler`)
  await start(controllerManagerSpec(plan0, files))
  await start(schedulerSpec(plan0, files))
  // The ServiceAccount controller's first work: KCM runs, and pods can be admitted.
  await waitFor(ctx, 'kube-controller-manager to create default/default', PHASE_DEADLINE_MS, async () =>
    (await api.read('v1', 'ServiceAccount', 'default', 'default')) ? [] : ['no ServiceAccount default/default yet'],
  )

  progress(`lab ${name}: hollow kubelet registers ${plan0.nodes.length} Nodes`)
  const kubeletLog = await startKubelet(ctx, files)
  const {podCIDRs, podCIDRs6} = await waitPodCIDRs(ctx, api, kubeletLog)
  await store.update((s) => (s.realised = {...s.realised, podCIDRs, ...(Object.keys(podCIDRs6).length > 0 ? {podCIDRs6} : {})}))
  ctx.plan = labPlanOf(store.current)
  if (plan0.params.topology === 'ptp') await writePtpConflists(ctx, files)

  const backend = plan0.params.topology === 'ptp' ? 'host-gw, for the routes between nodes' : plan0.params.topology
  progress(`lab ${name}: starting flanneld (${backend}) and kube-proxy (${k8s.proxyMode}) on each node`)
  for (const node of ctx.plan.nodes) {
    await start(flanneldSpec(node, files))
    await start(kubeProxySpec(node, files))
  }
  await waitFlannel(ctx, api, files)
  ctx.plan = labPlanOf(store.current)

  progress(`lab ${name}: creating ${ctx.plan.services.length} Services and ${ctx.plan.pods.length} Pods`)
  const {services, pods} = workloadManifests(ctx.plan)
  for (const svc of services) await api.ensure(svc as Obj)
  for (const pod of pods) await createPod(ctx, api, pod as Obj, kubeletLog)
  ctx.plan = labPlanOf(store.current)

  progress(`lab ${name}: waiting for EndpointSlices, kube-proxy rules and flannel routes`)
  const plan = ctx.plan
  await waitFor(ctx, 'the datapath', PHASE_DEADLINE_MS, async () => [
    ...(await endpointSlicesMissing(api, plan)),
    ...(await proxyRulesMissing(plan, k8s.proxyMode)),
    ...(await podRoutesMissing(plan)),
  ])
  return plan
}

async function versionsOf(dir: string): Promise<Partial<Record<Component, string>>> {
  const names: Component[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'flanneld']
  const found = await Promise.all(names.map(async (c) => [c, await componentVersion(dir, c)] as const))
  return Object.fromEntries(found.filter(([, v]) => v !== undefined))
}

interface Files extends LabFiles {
  caPem: string
  identity(name: IdentityName): Identity
  /** Per node in plan order: its CNI network when known before its pod CIDR (flannel's), else undefined. */
  conflists: (CniConflist | undefined)[]
  /** Per node: where its CNI network is (ptp: written once the node has its pod CIDR). */
  conflistFiles: string[]
}

async function writeFiles(ctx: Ctx): Promise<Files> {
  const {plan, labDir: dir} = ctx
  for (const node of plan.nodes) await mkdir(join(dir, node.name), {recursive: true, mode: 0o700})
  const pki = await makePki(dir, plan.params.name, [plan.router.ip, '127.0.0.1', firstServiceIp(plan.serviceCIDR)])
  const caPem = await readFile(pki.caCert, 'utf8')
  const identities = makeIdentities()
  const identity = (n: IdentityName): Identity => identities.find((i) => i.name === n) as Identity
  const tokenFile = join(dir, 'tokens.csv')
  await writeFile(tokenFile, tokenAuthFile(identities), {mode: 0o600})
  const inLab = apiServerUrl(plan)
  const kubeconfigs = {} as LabFiles['kubeconfigs']
  for (const n of ['kube-proxy', 'flannel', 'kube-controller-manager', 'kube-scheduler'] as const) {
    kubeconfigs[n] = join(dir, `${n}.kubeconfig`)
    await writeFile(kubeconfigs[n], identityKubeconfig(identity(n), inLab, caPem), {mode: 0o600})
  }
  // The hollow kubelet runs in the host's root namespace (see startKubelet): it uses the relay.
  kubeconfigs.kubelet = join(dir, 'kubelet.kubeconfig')
  const schedulerConfigPath = join(dir, 'kube-scheduler.yaml')
  await writeFile(schedulerConfigPath, schedulerConfig(kubeconfigs['kube-scheduler']), {mode: 0o600})
  const netConf = join(dir, 'net-conf.json')
  await writeFile(netConf, flannelNetConf(plan), {mode: 0o600})
  const ptp = plan.params.topology === 'ptp'
  const conflists = plan.nodes.map((node) =>
    ptp ? undefined : cniConflist(node, {subnetFile: flannelSubnetFile(dir, node), dataDir: join(dir, node.name, 'flannel-cni'), ipamDir: join(dir, node.name, 'ipam')}),
  )
  const conflistFiles = plan.nodes.map((node) => join(dir, node.name, ptp ? '10-kindnet.conflist' : '10-flannel.conflist'))
  for (const node of plan.nodes) {
    await writeFile(kubeProxyConfigPath(dir, node), kubeProxyConfig(plan, ctx.k8s.proxyMode, kubeconfigs['kube-proxy'], node), {mode: 0o600})
    const conflist = conflists[node.index - 1]
    if (conflist) await writeFile(conflistFiles[node.index - 1] as string, `${JSON.stringify(conflist, null, 2)}\n`, {mode: 0o600})
  }
  return {dir, bin: ctx.k8s.dir, pki, tokenFile, kubeconfigs, schedulerConfig: schedulerConfigPath, flannelNetConf: netConf, caPem, identity, conflists, conflistFiles}
}

/**
 * What kindnetd does first on a node: once the node has spec.podCIDR, write the ptp conflist for
 * it (the hollow kubelet reads it at each pod's ADD). Atomic, so no ADD reads half a file.
 */
async function writePtpConflists(ctx: Ctx, files: Files): Promise<void> {
  for (const node of ctx.plan.nodes) {
    const path = files.conflistFiles[node.index - 1] as string
    const conflist = ptpConflist(node.podCIDR, join(files.dir, node.name, 'ipam'), UNDERLAY_MTU)
    await writeFile(`${path}.tmp`, `${JSON.stringify(conflist, null, 2)}\n`, {mode: 0o600})
    await rename(`${path}.tmp`, path)
  }
}

/** The `kubernetes` Service's ClusterIP: the first address of the Service range. */
export function firstServiceIp(cidr: string): string {
  const [net] = cidr.split('/')
  const o = (net as string).split('.').map(Number)
  return [o[0], o[1], o[2], (o[3] as number) + 1].join('.')
}

async function startComponent(ctx: Ctx, spec: ComponentSpec, version: string | undefined): Promise<number> {
  ctx.check()
  const pid = spawnDetached(['ip', 'netns', 'exec', spec.netns, ...spec.argv], spec.log, {[MARKER_ENV]: ctx.plan.marker, ...spec.env})
  await ctx.store.update(
    (s) =>
      void s.processes.push({
        pid,
        role: 'component',
        component: spec.component,
        netns: spec.netns,
        ...(spec.node ? {node: spec.node} : {}),
        ...(version ? {version} : {}),
        marker: ctx.plan.marker,
      }),
  )
  return pid
}

/**
 * How long a helper process may take to print its "ready" line. A hang detector, not a speed
 * limit: a failing helper prints "error …" at once, and at a load average of 25 on two cores the
 * hollow kubelet (which registers every Node and waits for its podCIDR) took over 10 s.
 */
const READY_TIMEOUT_MS = PHASE_DEADLINE_MS

async function readyLine(log: string, timeoutMs: number, ctx: Ctx): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    ctx.check()
    const text = await readFile(log, 'utf8').catch(() => '')
    const line = /^ready(?: (.*))?$/m.exec(text)
    if (line) return line[1] ?? ''
    if (/^error /m.test(text)) throw new KnetError('command-failed', `${text.trim().split('\n')[0]}`, {suggestion: `see ${log}`})
    if (Date.now() > deadline) throw new KnetError('timeout', `no "ready" in ${log} within ${timeoutMs} ms`)
    await sleep(25)
  }
}

/** router namespace: socket → 10.100.0.1:6443; root namespace: 127.0.0.1:PORT → socket. */
async function startRelay(ctx: Ctx): Promise<string> {
  const socket = join(ctx.labDir, 'api.sock')
  const script = helperScript('real/relay')
  const inner = join(ctx.labDir, 'relay-router.log')
  const outer = join(ctx.labDir, 'relay-host.log')
  const marker = ctx.plan.marker
  const innerPid = spawnDetached(['ip', 'netns', 'exec', ctx.plan.router.netns, process.execPath, script, MARKER_FLAG, marker, 'unix-to-tcp', socket, ctx.plan.router.ip, String(API_PORT)], inner)
  await ctx.store.update((s) => void s.processes.push({pid: innerPid, role: 'relay', netns: ctx.plan.router.netns, marker}))
  await readyLine(inner, READY_TIMEOUT_MS, ctx)
  const outerPid = spawnDetached([process.execPath, script, MARKER_FLAG, marker, 'tcp-to-unix', socket], outer)
  await ctx.store.update((s) => void s.processes.push({pid: outerPid, role: 'relay', marker}))
  return `https://${await readyLine(outer, READY_TIMEOUT_MS, ctx)}`
}

async function startKubelet(ctx: Ctx, files: Files): Promise<string> {
  const config: HollowKubeletConfig = {
    marker: ctx.plan.marker,
    dir: ctx.labDir,
    binDir: ctx.k8s.dir,
    kubeconfig: files.kubeconfigs.kubelet,
    responderScript: helperScript('responder'),
    nodes: ctx.plan.nodes.map((n, i) => {
      const conflist = files.conflists[i]
      return {name: n.name, netns: n.netns, internalIP: n.underlayIp, ...(n.v6 ? {internalIP6: n.v6.underlayIp} : {}), ...(conflist ? {conflist} : {conflistFile: files.conflistFiles[i] as string})}
    }),
    leaseRenewSeconds: 10,
    statusUpdateSeconds: 60,
  }
  const configPath = join(ctx.labDir, 'kubelet.json')
  await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`, {mode: 0o600})
  const log = join(ctx.labDir, 'hollow-kubelet.log')
  // In the host's mount and network namespaces, reaching the API through the relay: `ip netns
  // exec` would give it a mount namespace of its own, and the pod namespaces it then creates
  // (bind mounts under /run/netns) would exist only there.
  const pid = spawnDetached([process.execPath, helperScript('real/kubelet'), MARKER_FLAG, ctx.plan.marker, configPath], log)
  await ctx.store.update((s) => void s.processes.push({pid, role: 'kubelet', marker: ctx.plan.marker}))
  await readyLine(log, READY_TIMEOUT_MS, ctx)
  return log
}

async function lastError(log: string): Promise<string | undefined> {
  const text = await readFile(log, 'utf8').catch(() => '')
  return text.split('\n').filter((l) => / error /.test(` ${l} `) || l.startsWith('error ')).at(-1)
}

/** Each Node's pod CIDR as KCM allocated it, and on a dual-stack lab its IPv6 one (spec.podCIDRs[1]). */
async function waitPodCIDRs(ctx: Ctx, api: LabApi, kubeletLog: string): Promise<{podCIDRs: Record<string, string>; podCIDRs6: Record<string, string>}> {
  const cidrs: Record<string, string> = {}
  const cidrs6: Record<string, string> = {}
  const dual = ctx.plan.ipFamilies.includes(6)
  await waitFor(ctx, 'every Node to get a pod CIDR', PHASE_DEADLINE_MS, async () => {
    const text = await readFile(kubeletLog, 'utf8').catch(() => '')
    if (/^error /m.test(text)) throw new KnetError('command-failed', `hollow kubelet: ${text.split('\n').find((l) => l.startsWith('error '))}`)
    const {items} = await api.list('v1', 'Node')
    for (const n of items as (Obj & {metadata: {name: string}; spec?: {podCIDR?: string; podCIDRs?: string[]}})[]) {
      if (n.spec?.podCIDR) cidrs[n.metadata.name] = n.spec.podCIDR
      const v6 = n.spec?.podCIDRs?.find((c) => c.includes(':'))
      if (v6) cidrs6[n.metadata.name] = v6
    }
    return ctx.plan.nodes.flatMap((n) => [...(cidrs[n.name] ? [] : [`${n.name} has no podCIDR`]), ...(dual && !cidrs6[n.name] ? [`${n.name} has no IPv6 podCIDR`] : [])])
  })
  return {podCIDRs: cidrs, podCIDRs6: cidrs6}
}

async function waitFlannel(ctx: Ctx, api: LabApi, files: Files): Promise<void> {
  const vtepMacs: Record<string, string> = {}
  const vtepMacs6: Record<string, string> = {}
  const dual = ctx.plan.ipFamilies.includes(6)
  await waitFor(ctx, 'flanneld on every node', PHASE_DEADLINE_MS, async () => {
    const missing: string[] = []
    for (const node of ctx.plan.nodes) {
      const env = await readFile(flannelSubnetFile(files.dir, node), 'utf8').catch(() => '')
      const keys = ['FLANNEL_SUBNET=', ...(dual ? ['FLANNEL_IPV6_SUBNET='] : [])]
      if (keys.some((k) => !env.includes(k))) missing.push(`${node.name}: no ${keys.join(' and ')} in ${flannelSubnetFile(files.dir, node)} (see ${join(files.dir, node.name, 'flanneld.log')})`)
      if (ctx.plan.params.topology !== 'vxlan') continue
      const obj = (await api.read('v1', 'Node', node.name)) as (Obj & {metadata: {annotations?: Record<string, string>}}) | undefined
      const mac = parseVtepMac(obj?.metadata.annotations)
      if (mac) vtepMacs[node.name] = mac
      else missing.push(`${node.name}: no flannel backend-data annotation`)
      if (!dual) continue
      const mac6 = parseVtepMac(obj?.metadata.annotations, 6)
      if (mac6) vtepMacs6[node.name] = mac6
      else missing.push(`${node.name}: no flannel backend-v6-data annotation`)
    }
    return missing
  })
  if (Object.keys(vtepMacs).length > 0) await ctx.store.update((s) => (s.realised = {...s.realised, vtepMacs, ...(Object.keys(vtepMacs6).length > 0 ? {vtepMacs6} : {})}))
}

async function createPod(ctx: Ctx, api: LabApi, manifest: Obj, kubeletLog: string): Promise<void> {
  const {name, namespace} = manifest.metadata as {name: string; namespace: string}
  await api.ensure(manifest)
  let running: (Obj & {status?: {phase?: string; podIP?: string}}) | undefined
  await waitFor(ctx, `pod ${namespace}/${name} to run`, PHASE_DEADLINE_MS, async () => {
    running = (await api.read('v1', 'Pod', name, namespace)) as typeof running
    if (running?.status?.phase === 'Running' && running.status.podIP) return []
    const why = await lastError(kubeletLog)
    return [`${namespace}/${name} is ${running?.status?.phase ?? 'absent'}${why ? `; hollow kubelet: ${why}` : ''}`]
  })
  const sandbox = JSON.parse(await readFile(sandboxFile(ctx.labDir, namespace, name), 'utf8')) as Sandbox
  const pid = responderPid(running as never) ?? sandbox.pid
  await ctx.store.update((s) => {
    s.namespaces.push(sandbox.pod.netns)
    if (pid) s.processes.push({pid, role: 'responder', netns: sandbox.pod.netns, pod: name, marker: ctx.plan.marker})
    const pods = {...s.realised?.pods, [name]: {ip: sandbox.cni.ip, ...(sandbox.cni.ip6 ? {ip6: sandbox.cni.ip6} : {}), ...(sandbox.cni.mac ? {mac: sandbox.cni.mac} : {}), ...(sandbox.cni.hostVeth ? {hostVeth: sandbox.cni.hostVeth} : {})}}
    s.realised = {...s.realised, pods}
  })
}

async function waitFor(ctx: Ctx, what: string, timeoutMs: number, missing: () => Promise<string[]>): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: string[] = []
  for (;;) {
    ctx.check()
    try {
      last = await missing()
    } catch (error) {
      if (error instanceof KnetError && error.kind !== 'timeout') throw error
      last = [(error as Error).message]
    }
    if (last.length === 0) return
    if (Date.now() > deadline) throw new KnetError('timeout', `waited ${timeoutMs / 1000} s for ${what}: ${last.slice(0, 3).join('; ')}${last.length > 3 ? ` (+${last.length - 3} more)` : ''}`)
    await sleep(250)
  }
}

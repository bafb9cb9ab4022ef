/**
 * The hollow kubelet: a real lab's kubelet for networking only, one process for every node (there
 * is no container runtime; a pod's "container" is a responder). It
 *   - registers each Node in order (InternalIP, both on a dual-stack lab; hostname label, allocatable pods, Ready), waiting
 *     for KCM to give each its pod CIDR before the next, so CIDRs follow the plan's node order;
 *   - renews each Node's Lease in kube-node-lease and refreshes its conditions;
 *   - for every Pod the scheduler binds to one of its nodes: creates the pod's namespace, runs the
 *     CNI chain, starts the responder and patches pods/status (podIPs from the CNI result, Ready);
 *   - on deletion: stops the responder, CNI DEL, removes the namespace, then deletes the Pod.
 * Pods are set up one at a time in the order they are seen, so host-local's IPs follow creation
 * order.
 *
 * argv: --knetlab-marker MARKER CONFIG_JSON; prints "ready" once started, then one line per event.
 */
import {readFile, readdir} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'
import {labApi, type LabApi, type Obj} from './api.js'
import type {CniConflist} from './cni.js'
import type {HollowKubeletConfig, HollowKubeletNode} from './kubelet-config.js'
import {leaseManifest, nodeConditions, nodeManifest, podRunningPatch} from './kubelet-status.js'
import {NETNS_ANNOTATION} from './manifests.js'
import {createSandbox, listenersOf, removeSandbox, type Sandbox, type SandboxContext} from './pod-sandbox.js'

type PodObj = Obj & {
  metadata: {name: string; namespace: string; uid: string; deletionTimestamp?: string; annotations?: Record<string, string>}
  spec?: {nodeName?: string; hostNetwork?: boolean; containers?: {name: string; image?: string; ports?: {containerPort?: number; protocol?: string}[]}[]}
  status?: {phase?: string}
}

const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`)

class HollowKubelet {
  private readonly api: LabApi
  private readonly ctx: SandboxContext
  private readonly nodes: Map<string, HollowKubeletNode>
  private readonly sandboxes = new Map<string, Sandbox & {conflist: CniConflist}>()
  private readonly busy = new Set<string>()
  private readonly failed = new Map<string, number>()
  private queue: Promise<void> = Promise.resolve()
  private nodeUids = new Map<string, string>()

  constructor(private readonly config: HollowKubeletConfig) {
    this.api = labApi(config.kubeconfig)
    this.ctx = {marker: config.marker, dir: config.dir, binDir: config.binDir, responderScript: config.responderScript}
    this.nodes = new Map(config.nodes.map((n) => [n.name, n]))
  }

  async registerNodes(): Promise<void> {
    for (const node of this.config.nodes) {
      await this.api.ensure(nodeManifest({name: node.name, internalIP: node.internalIP, ...(node.internalIP6 ? {internalIP6: node.internalIP6} : {})}, new Date().toISOString()) as Obj)
      for (let i = 0; ; i++) {
        const obj = (await this.api.read('v1', 'Node', node.name)) as (Obj & {metadata: {uid?: string}; spec?: {podCIDR?: string}}) | undefined
        if (obj?.metadata.uid) this.nodeUids.set(node.name, obj.metadata.uid)
        if (obj?.spec?.podCIDR) {
          log(`node ${node.name} registered, podCIDR ${obj.spec.podCIDR}`)
          break
        }
        if (i > 1200) throw new Error(`node ${node.name} got no podCIDR from kube-controller-manager in 120 s`)
        await sleep(100)
      }
      await this.renewLease(node.name)
    }
  }

  private async renewLease(node: string): Promise<void> {
    await this.api.renewLease(leaseManifest(node, this.nodeUids.get(node), new Date()) as never)
  }

  heartbeat(): void {
    const every = async (seconds: number, f: () => Promise<void>): Promise<void> => {
      for (;;) {
        await sleep(seconds * 1000)
        await f().catch((error: unknown) => log(`heartbeat: ${(error as Error).message}`))
      }
    }
    void every(this.config.leaseRenewSeconds, async () => {
      for (const node of this.nodes.keys()) await this.renewLease(node)
    })
    void every(this.config.statusUpdateSeconds, async () => {
      for (const node of this.nodes.keys()) await this.api.patchNodeStatus(node, {status: {conditions: nodeConditions(new Date().toISOString())}})
    })
  }

  /** List, then watch from the list's version; on any watch end, list again (a kubelet's reflector, small). */
  async syncPods(): Promise<void> {
    for (;;) {
      try {
        const {items, resourceVersion} = await this.api.list('v1', 'Pod')
        for (const pod of items) this.observe('SYNC', pod as PodObj)
        const seen = new Set(items.map((p) => (p as PodObj).metadata.uid))
        for (const [uid, sb] of this.sandboxes) if (!seen.has(uid)) this.enqueue(uid, () => this.teardown(uid, sb.pod.namespace, sb.pod.name, false))
        await new Promise<void>((resolve) => {
          void this.api
            .watch('/api/v1/pods', {resourceVersion, allowWatchBookmarks: true}, (type, obj) => this.observe(type, obj as PodObj), () => resolve())
            .catch(() => resolve())
        })
      } catch (error) {
        log(`pod sync: ${(error as Error).message}`)
      }
      await sleep(500)
    }
  }

  private observe(type: string, pod: PodObj): void {
    const uid = pod.metadata?.uid
    const nodeName = pod.spec?.nodeName
    if (!uid || !nodeName || !this.nodes.has(nodeName) || pod.spec?.hostNetwork) return
    if (type === 'DELETED' || pod.metadata.deletionTimestamp) {
      if (this.sandboxes.has(uid) || type !== 'DELETED') this.enqueue(uid, () => this.teardown(uid, pod.metadata.namespace, pod.metadata.name, type !== 'DELETED'))
      return
    }
    if (!this.sandboxes.has(uid) && pod.status?.phase !== 'Running' && (this.failed.get(uid) ?? 0) < 5) this.enqueue(uid, () => this.start(pod))
  }

  private enqueue(uid: string, work: () => Promise<void>): void {
    if (this.busy.has(uid)) return
    this.busy.add(uid)
    this.queue = this.queue.then(work).catch((error: unknown) => log(`error ${(error as Error).message}`)).finally(() => this.busy.delete(uid))
  }

  private async start(pod: PodObj): Promise<void> {
    const uid = pod.metadata.uid
    const node = this.nodes.get(pod.spec?.nodeName as string) as HollowKubeletNode
    const netns = pod.metadata.annotations?.[NETNS_ANNOTATION] ?? (await this.freeNetns(node.netns))
    try {
      const conflist = await conflistOf(node)
      const sandbox = await createSandbox(this.ctx, {namespace: pod.metadata.namespace, name: pod.metadata.name, uid, node: {name: node.name, netns: node.netns}, netns, listeners: listenersOf(pod)}, conflist)
      this.sandboxes.set(uid, {...sandbox, conflist})
      const containers = (pod.spec?.containers ?? []).map((c) => ({name: c.name, image: c.image ?? ''}))
      await this.api.patchPodStatus(pod.metadata.namespace, pod.metadata.name, podRunningPatch({hostIP: node.internalIP, ...(node.internalIP6 ? {hostIP6: node.internalIP6} : {}), podIP: sandbox.cni.ip, ...(sandbox.cni.ip6 ? {podIP6: sandbox.cni.ip6} : {}), pid: sandbox.pid, containers, startedAt: new Date().toISOString()}))
      log(`pod ${pod.metadata.namespace}/${pod.metadata.name} running on ${node.name}: ${[sandbox.cni.ip, sandbox.cni.ip6].filter(Boolean).join(' ')} netns ${netns} responder ${sandbox.pid}`)
    } catch (error) {
      this.failed.set(uid, (this.failed.get(uid) ?? 0) + 1)
      throw new Error(`pod ${pod.metadata.namespace}/${pod.metadata.name}: ${(error as Error).message}`)
    }
  }

  private async teardown(uid: string, namespace: string, name: string, deleteObject: boolean): Promise<void> {
    const sb = this.sandboxes.get(uid)
    if (sb) {
      const errors = await removeSandbox(this.ctx, sb, sb.conflist)
      this.sandboxes.delete(uid)
      log(`pod ${namespace}/${name} removed${errors.length > 0 ? ` (with errors: ${errors.join('; ')})` : ''}`)
    }
    if (deleteObject) await this.api.remove('v1', 'Pod', name, namespace, 0)
  }

  /** NODE-pK with the first k no pod of this node uses (names of the lab's shape, so `down` finds them). */
  private async freeNetns(nodeNetns: string): Promise<string> {
    const used = new Set([...(await readdir('/run/netns').catch(() => [] as string[])), ...[...this.sandboxes.values()].map((s) => s.pod.netns)])
    for (let k = 1; ; k++) if (!used.has(`${nodeNetns}-p${k}`)) return `${nodeNetns}-p${k}`
  }
}

/** The node's CNI network now: inline, or read from its file (absent until the node agent wrote it). */
async function conflistOf(node: HollowKubeletNode): Promise<CniConflist> {
  if (node.conflist) return node.conflist
  if (!node.conflistFile) throw new Error(`node ${node.name} has no CNI network`)
  const text = await readFile(node.conflistFile, 'utf8').catch(() => undefined)
  if (text === undefined) throw new Error(`node ${node.name}: no CNI network yet (${node.conflistFile})`)
  return JSON.parse(text) as CniConflist
}

async function main(): Promise<void> {
  const [, , flag, marker, configPath] = process.argv
  if (flag !== '--knetlab-marker' || !marker || !configPath) throw new Error('usage: kubelet.js --knetlab-marker MARKER CONFIG_JSON')
  const config = JSON.parse(await readFile(configPath, 'utf8')) as HollowKubeletConfig
  const kubelet = new HollowKubelet(config)
  process.on('SIGTERM', () => process.exit(0))
  process.on('SIGINT', () => process.exit(0))
  process.stdout.write('ready\n')
  await kubelet.registerNodes()
  kubelet.heartbeat()
  await kubelet.syncPods()
}

main().catch((error: unknown) => {
  process.stdout.write(`error ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})

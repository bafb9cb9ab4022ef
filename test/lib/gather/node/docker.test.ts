import {afterEach, describe, expect, it} from 'vitest'
import {parseNodeMap} from '../../../../src/lib/cli/flags.js'
import type {ClusterEvidence} from '../../../../src/lib/gather/cluster/evidence.js'
import {CATALOG, catalogCommand, type CatalogCommand} from '../../../../src/lib/gather/node/catalog.js'
import {findExecutable} from '../../../../src/lib/gather/node/client-on-path.js'
import {dockerArgv, dockerTargets, DockerTransport, interpretDockerOutcome} from '../../../../src/lib/gather/node/docker.js'
import {gatherNodes} from '../../../../src/lib/gather/node/gather-node.js'
import {runCommand} from '../../../../src/lib/gather/node/run-command.js'
import type {ExecOutcome} from '../../../../src/lib/gather/node/transport.js'

const CLIENT_MISSING = 'docker is not installed on this machine (--node-access docker runs the docker CLI)'

function cluster(names: string[]): ClusterEvidence {
  return {
    source: 'objects-file',
    objects: {nodes: names.map((name) => ({metadata: {name}})), pods: [], services: [], endpointSlices: [], networkPolicies: [], daemonSets: [], kubeProxyConfigMap: null},
    ignoredKinds: {},
    errors: [],
  }
}

function outcome(partial: Partial<ExecOutcome>): ExecOutcome {
  return {execArgv: ['docker'], exitCode: 0, stdout: '', stderr: '', durationMs: 1, timedOut: false, truncated: false, notFound: false, ...partial}
}

describe('docker argv', () => {
  it('is docker exec CONTAINER followed by the catalogue argv, as an array', () => {
    const routes = catalogCommand('routes4') as CatalogCommand
    expect(dockerArgv('kind-worker', routes.argv)).toEqual(['docker', 'exec', '--env', 'LC_ALL=C', 'kind-worker', 'ip', '-j', 'route', 'show', 'table', 'all'])
    // Every catalogue entry keeps its words as they are: no shell on either side.
    for (const c of CATALOG) expect(dockerArgv('k3d-dev-server-0', c.argv).slice(5)).toEqual([...c.argv])
  })

  it('refuses container names docker could read as options', () => {
    for (const bad of ['-it', '--privileged', 'a b', '', 'a;b']) {
      expect(() => dockerArgv(bad, ['ip', '-j', 'addr', 'show'])).toThrow(/invalid container name/)
      expect(() => new DockerTransport(bad)).toThrow(/invalid container name/)
    }
    expect(() => parseNodeMap('kind-worker=--privileged', 'docker-container-map')).toThrow(/--docker-container-map: "kind-worker=--privileged" is not NODE=NAME/)
  })

  it('refuses argv outside the catalogue before docker starts', async () => {
    const rogue: CatalogCommand = {id: 'x', argv: ['sh', '-c', 'reboot'], description: '', timeoutMs: 1000, maxBytes: 100}
    const r = await runCommand(new DockerTransport('kind-worker'), rogue)
    expect(r).toMatchObject({status: 'failed', reason: expect.stringMatching(/refusing to run a command outside the catalogue/)})
  })
})

describe('docker outcomes', () => {
  it('reads "executable file not found" (126 or 127) as the tool missing in the node', () => {
    const stderr = 'OCI runtime exec failed: exec failed: unable to start container process: exec: "ipvsadm": executable file not found in $PATH: unknown\n'
    expect(interpretDockerOutcome(outcome({exitCode: 127, stderr}), 'kind-worker')).toMatchObject({notFound: true})
    expect(interpretDockerOutcome(outcome({exitCode: 126, stderr}), 'kind-worker')).toMatchObject({notFound: true})
  })

  it("turns the daemon's own failures into one line naming the container", () => {
    expect(interpretDockerOutcome(outcome({exitCode: 1, stderr: 'Error response from daemon: No such container: kind-worker9\n'}), 'kind-worker9').error).toBe(
      'docker exec into kind-worker9 failed: Error response from daemon: No such container: kind-worker9',
    )
    const noDaemon = 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n'
    expect(interpretDockerOutcome(outcome({exitCode: 1, stderr: noDaemon}), 'c').error).toMatch(/^docker exec into c failed: Cannot connect to the Docker daemon/)
  })

  it("leaves the command's own failures to the classifier", () => {
    const grep = outcome({exitCode: 2, stderr: 'grep: /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory\n'})
    expect(interpretDockerOutcome(grep, 'c')).toEqual(grep)
  })

  it('reads a missing local docker client as a transport error, not as the tool missing in the node', () => {
    expect(interpretDockerOutcome(outcome({exitCode: null, notFound: true}), 'c')).toMatchObject({notFound: false, error: CLIENT_MISSING})
  })
})

describe('docker targets', () => {
  it('one container per node, named after it unless mapped; mapped extra nodes too', () => {
    const {targets, errors} = dockerTargets(cluster(['kind-control-plane', 'kind-worker', '-x']), {containerMap: new Map([['kind-worker', 'renamed'], ['extra', 'c9']])}, true)
    expect(targets.map((t) => [t.name, t.transport.kind, t.transport.target])).toEqual([
      ['kind-control-plane', 'docker', 'kind-control-plane'],
      ['kind-worker', 'docker', 'renamed'],
      ['extra', 'docker', 'c9'],
    ])
    expect(errors).toEqual([{node: '-x', source: 'node-access', kind: 'bad-input', message: 'node name "-x" is not a valid container name; not contacted'}])
  })

  it('contacts only the selected nodes, and needs nodes at all', () => {
    expect(dockerTargets(cluster(['a', 'b']), {only: new Set(['b'])}, true).targets.map((t) => t.name)).toEqual(['b'])
    expect(() => dockerTargets(null, {}, true)).toThrow(/--node-access docker needs nodes/)
  })

  it('without a docker client, records one clear collection error per node and contacts none', () => {
    const {targets, errors} = dockerTargets(cluster(['kind-control-plane', 'kind-worker']), {}, false)
    expect(targets).toEqual([])
    expect(errors).toEqual(['kind-control-plane', 'kind-worker'].map((node) => ({node, source: 'node-access', kind: 'not-found', message: CLIENT_MISSING})))
  })
})

// The docker CLI is not needed for the tests above; where it is installed, its real failure when
// no daemon answers is checked too (DOCKER_HOST points at a socket that does not exist).
describe.skipIf(!findExecutable('docker'))('the real docker client with no daemon [skipped where docker is not installed]', () => {
  const savedHost = process.env.DOCKER_HOST
  afterEach(() => {
    if (savedHost === undefined) delete process.env.DOCKER_HOST
    else process.env.DOCKER_HOST = savedHost
  })

  it('is one collection error line per command, and docker is tried only once', async () => {
    process.env.DOCKER_HOST = 'unix:///nonexistent/knet-test-docker.sock'
    const commands = [catalogCommand('links'), catalogCommand('routes4')] as CatalogCommand[]
    const {nodes, errors} = await gatherNodes([{name: 'kind-worker', transport: new DockerTransport('kind-worker')}], {commands, perNodeParallel: 1})
    const [first, second] = nodes[0]?.results ?? []
    expect(first).toMatchObject({status: 'failed', execArgv: ['docker', 'exec', '--env', 'LC_ALL=C', 'kind-worker', 'ip', '-j', '-d', 'link', 'show']})
    expect(first?.reason).toMatch(/^docker exec into kind-worker failed: Cannot connect to the Docker daemon at unix:\/\/\/nonexistent\/knet-test-docker.sock/)
    expect(second).toMatchObject({status: 'failed', reason: first?.reason, durationMs: 0})
    expect(errors.map((e) => [e.node, e.source, e.kind])).toEqual([['kind-worker', 'links', 'command-failed'], ['kind-worker', 'routes4', 'command-failed']])
  })
})

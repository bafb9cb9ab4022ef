/**
 * Sends real TCP or UDP packets from inside a namespace (`ip netns exec NS node prober.js JOB`)
 * and prints one JSON line per attempt (tagged with its job's index): delivered (with the answering pod's name), refused
 * (RST, or ICMP port unreachable on a connected UDP socket) or timeout. Each attempt uses a new
 * socket, hence a new source port, so kube-proxy's random endpoint choice is made afresh — unless
 * the job fixes `sourcePort`, which reuses one conntrack entry on purpose.
 */
import {createSocket} from 'node:dgram'
import {connect} from 'node:net'
import {deadline} from './stall-clock.js'

export interface ProberJob {
  protocol: 'tcp' | 'udp'
  ip: string
  port: number
  attempts: number
  timeoutMs: number
  /** UDP payload size in bytes. */
  size: number
  /** Stop early once this many distinct answers were seen (a Service's endpoint count). */
  stopAfterDistinct?: number
  /** Send every attempt from this local port (default: a new ephemeral port per attempt). */
  sourcePort?: number
}

export interface ProberAttempt {
  outcome: 'delivered' | 'refused' | 'timeout' | 'error'
  answeredBy?: string
  detail?: string
  ms: number
}

function tcpAttempt(job: ProberJob): Promise<ProberAttempt> {
  const start = Date.now()
  return new Promise((resolve) => {
    let data = ''
    let done = false
    const finish = (a: Omit<ProberAttempt, 'ms'>): void => {
      if (done) return
      done = true
      timer.clear()
      socket.destroy()
      resolve({...a, ms: Date.now() - start})
    }
    const socket = connect({host: job.ip, port: job.port, ...(job.sourcePort === undefined ? {} : {localPort: job.sourcePort})})
    const timer = deadline(job.timeoutMs, () => finish({outcome: 'timeout'}))
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (data += chunk))
    socket.on('end', () => finish({outcome: 'delivered', answeredBy: data.trim()}))
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') finish({outcome: 'refused', detail: error.code})
      else if (error.code === 'EHOSTUNREACH' || error.code === 'ENETUNREACH') finish({outcome: 'error', detail: error.code})
      else finish({outcome: 'error', detail: error.code ?? error.message})
    })
  })
}

function udpAttempt(job: ProberJob): Promise<ProberAttempt> {
  const start = Date.now()
  return new Promise((resolve) => {
    let done = false
    const socket = createSocket(job.ip.includes(':') ? 'udp6' : 'udp4')
    const finish = (a: Omit<ProberAttempt, 'ms'>): void => {
      if (done) return
      done = true
      timer.clear()
      socket.close()
      resolve({...a, ms: Date.now() - start})
    }
    const timer = deadline(job.timeoutMs, () => finish({outcome: 'timeout'}))
    socket.on('message', (msg) => finish({outcome: 'delivered', answeredBy: msg.toString('utf8').trim()}))
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // On a connected UDP socket Linux turns ICMP port unreachable into ECONNREFUSED.
      if (error.code === 'ECONNREFUSED') finish({outcome: 'refused', detail: 'ICMP port unreachable'})
      else finish({outcome: 'error', detail: error.code ?? error.message})
    })
    const send = (): void => socket.connect(job.port, job.ip, () => socket.send(Buffer.alloc(Math.max(1, job.size), 0x6b)))
    // A fixed source port keeps hitting the same conntrack entry (what a resolver retrying from one socket does).
    if (job.sourcePort === undefined) send()
    else socket.bind(job.sourcePort, send)
  })
}

async function runJob(job: ProberJob, index: number): Promise<void> {
  const seen = new Set<string>()
  for (let i = 0; i < job.attempts; i++) {
    const attempt = job.protocol === 'udp' ? await udpAttempt(job) : await tcpAttempt(job)
    process.stdout.write(`${JSON.stringify({job: index, ...attempt})}\n`)
    if (attempt.answeredBy) seen.add(attempt.answeredBy)
    if (job.stopAfterDistinct !== undefined && seen.size >= job.stopAfterDistinct) break
  }
}

/** argv[2]: one job or an array of jobs (run concurrently, each job's attempts one after another). */
async function main(): Promise<void> {
  const parsed = JSON.parse(process.argv[2] ?? '[]') as ProberJob | ProberJob[]
  const jobs = Array.isArray(parsed) ? parsed : [parsed]
  await Promise.all(jobs.map((job, i) => runJob(job, i)))
}

void main()

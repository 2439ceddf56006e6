/**
 * Worker threads for the wasm kernels: `worker_threads` in Node, Web Workers
 * in browsers, each instantiating the same kernel modules over the shared
 * WebAssembly.Memory. A parallel call hands one job (an export of a module
 * and its i32 arguments: addresses and sizes) to each worker — in Node
 * through the worker's slot in shared memory, which the worker sleeps on
 * with `Atomics.wait` (no message and no event-loop turn per job; modules
 * and export names go by message once, read with `receiveMessageOnPort`),
 * in browsers by message — runs its own share on the calling thread, then
 * waits on a shared counter (a short spin, then `Atomics.wait` in Node; a
 * spin on `Atomics.load` on a browser main thread, where waiting is not allowed). Kernels write disjoint parts of
 * their outputs, so no other synchronisation is needed.
 *
 * Chromium does not start a Web Worker while the thread that created it is
 * busy (a spin on one that had not started ran into the 60 s deadline), so
 * browser workers count themselves in once they have the memory; until all
 * have, `run` runs every share on the calling thread (on its own instances
 * of the jobs' modules), and `whenStarted` says when that ends: in headless
 * Chromium, 20 to 120 ms after the page's thread is next free (measured on
 * 2 cores; test-browser/cpu-wasm.test.ts prints it). Node workers start on
 * their own: shares go to them from the first call.
 *
 * There is no pool without shared memory (SharedArrayBuffer) or without a
 * way to start workers; `reason` then says why and everything runs on the
 * calling thread. A browser worker that fails to start (its `error` event)
 * leaves the pool at one thread, with the error as `reason`.
 * @internal
 */
import { theHeap } from './heap'
import type { Kernels } from './runtime'

/** One share of a parallel call: an export of a module and its arguments. */
export interface Job {
  readonly module: WebAssembly.Module
  readonly name: string
  readonly args: readonly number[]
}

/** The worker threads (possibly none). */
export interface Pool {
  /** threads that run kernels, the calling one included (1 without workers) */
  readonly size: number
  /** why there are no workers (empty when there are) */
  readonly reason: string
  /** runs `here` on the calling thread and each of `jobs` on a worker (on the calling thread too until browser workers have started), returning when all are done */
  run(here: () => void, jobs: readonly Job[]): void
  /** jobs workers have finished so far (for tests) */
  readonly jobs: number
  /**
   * whether shares reach the workers by message (browsers: tens of microseconds each) rather
   * than through a shared slot that a spinning worker polls (Node); kernels then split from 4×
   * the size (`parallelMin`)
   */
  readonly byMessage: boolean
}

// ctrl, an Int32Array over a SharedArrayBuffer: [jobs done, a job failed, workers started, unused], then per
// Node worker a job slot of SLOT ints: [sequence number, module id, name id, argument count, arguments…]
const SLOT = 4 + 1024
/**
 * polls before a thread sleeps (a few hundred microseconds): the caller on the done counter, a
 * worker on its slot (the step's next share usually comes within microseconds; a futex wake-up
 * costs tens of them, which made products of a tenth of a millisecond no faster on 2 threads)
 */
const SPINS = 20_000
const WORKER = `
const isNode = typeof process === 'object' && process.versions && process.versions.node
const wt = isNode ? require('node:worker_threads') : undefined
const port = isNode ? wt.parentPort : self
const SLOT = ${SLOT}
const SPINS = ${SPINS}
let memory, ctrl
const exports = []
const names = []
const onMessage = (m) => {
  if (m.t === 'init') {
    memory = m.memory; ctrl = new Int32Array(m.ctrl)
    Atomics.add(ctrl, 2, 1)
    if (!isNode) port.postMessage('started')
    if (m.slot !== undefined) serve(4 + m.slot * SLOT)
    return
  }
  if (m.t === 'module') { exports[m.id] = new WebAssembly.Instance(m.module, { env: { memory } }).exports; return }
  if (m.t === 'name') { names[m.id] = m.name; return }
  try { exports[m.id][m.name](...m.args) } catch (e) { Atomics.store(ctrl, 1, 1) }
  Atomics.add(ctrl, 0, 1)
  Atomics.notify(ctrl, 0)
}
// Node: jobs arrive in the shared slot (no message per job); modules and names by message, read synchronously
const drain = () => { for (let r; (r = wt.receiveMessageOnPort(port)); ) onMessage(r.message) }
const serve = (base) => {
  for (let seq = 0; ; ) {
    // the next share usually comes within microseconds (the step's next kernel): spin a while before sleeping
    for (let s = 0; s < SPINS && Atomics.load(ctrl, base) === seq; s++);
    Atomics.wait(ctrl, base, seq)
    const now = Atomics.load(ctrl, base)
    if (now === seq) continue
    seq = now
    const id = ctrl[base + 1], name = ctrl[base + 2], n = ctrl[base + 3]
    for (let t = 0; exports[id] === undefined || names[name] === undefined; t++) { drain(); if (t > 1e7) break }
    const args = new Array(n)
    for (let j = 0; j < n; j++) args[j] = ctrl[base + 4 + j]
    try { exports[id][names[name]](...args) } catch (e) { Atomics.store(ctrl, 1, 1) }
    Atomics.add(ctrl, 0, 1)
    Atomics.notify(ctrl, 0)
  }
}
if (isNode) port.on('message', onMessage); else port.onmessage = (e) => onMessage(e.data)
`

interface Handle {
  post(m: unknown): void
}

interface Spawned {
  readonly workers: Handle[]
  /** why there are none */
  readonly reason: string
  /** Node: workers take shares from the first call; browsers: once all have started */
  readonly node: boolean
  /** browsers: called with each worker's first message ('started') and its `error` events */
  readonly events?: { onStarted?: () => void; onError?: (message: string) => void }
}

const spawn = (n: number): Spawned => {
  const g = globalThis as unknown as {
    process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown }
    Worker?: new (url: string) => Worker
    Blob?: typeof Blob
    URL?: typeof URL
  }
  if (g.process?.versions?.node) {
    const wt = g.process.getBuiltinModule?.('node:worker_threads') as
      | { Worker: new (src: string, o: { eval: boolean }) => { postMessage(m: unknown): void; unref(): void } }
      | undefined
    if (!wt) return { workers: [], node: true, reason: 'this Node has no process.getBuiltinModule (Node ≥ 20.16 needed for worker threads)' }
    const workers = Array.from({ length: n }, () => {
      const w = new wt.Worker(WORKER, { eval: true })
      w.unref()
      return { post: (m: unknown) => w.postMessage(m) }
    })
    return { workers, node: true, reason: '' }
  }
  if (typeof g.Worker === 'function' && g.Blob && g.URL) {
    const url = g.URL.createObjectURL(new g.Blob([WORKER], { type: 'text/javascript' }))
    const events: NonNullable<Spawned['events']> = {}
    const workers = Array.from({ length: n }, () => {
      const w = new g.Worker!(url)
      w.onmessage = () => events.onStarted?.()
      w.onerror = (e) => {
        e.preventDefault() // handled: the pool stays on the calling thread and says why
        events.onError?.(e.message || 'a worker failed to load its script')
      }
      return { post: (m: unknown) => w.postMessage(m) }
    })
    return { workers, node: false, reason: '', events }
  }
  return { workers: [], node: false, reason: 'no worker threads in this environment' }
}

const single = (reason: string): Pool => ({ size: 1, reason, run: (here) => here(), jobs: 0, byMessage: false })

const starts = new WeakMap<Pool, Promise<void>>()

const create = (threads: number): Pool => {
  const heap = theHeap()
  if (!heap.shared) return single('SharedArrayBuffer is unavailable, so workers cannot share the wasm memory')
  if (threads <= 1) return single('one thread requested')
  let spawned: Spawned
  try {
    spawned = spawn(threads - 1)
  } catch (e) {
    return single(`workers could not start (${e instanceof Error ? e.message : String(e)})`)
  }
  const { workers, reason, node, events } = spawned
  if (workers.length === 0) return single(reason)
  const ctrl = new Int32Array(new SharedArrayBuffer(4 * (4 + (node ? workers.length * SLOT : 0))))
  workers.forEach((w, j) => w.post({ t: 'init', memory: heap.memory, ctrl: ctrl.buffer, slot: node ? j : undefined }))
  const ids = new Map<WebAssembly.Module, number>()
  const nameIds = new Map<string, number>()
  const seqs = new Int32Array(workers.length)
  let failure = ''
  const started = () => !failure && (node || Atomics.load(ctrl, 2) === workers.length)

  // before the workers have started: every share on this thread, on instances of its own
  const instances = new WeakMap<WebAssembly.Module, Record<string, (...args: number[]) => void>>()
  const runHere = (job: Job): void => {
    let e = instances.get(job.module)
    if (!e) {
      e = new WebAssembly.Instance(job.module, { env: { memory: heap.memory } }).exports as Record<string, (...args: number[]) => void>
      instances.set(job.module, e)
    }
    e[job.name](...job.args)
  }

  const pool: Pool = {
    get size() {
      return failure ? 1 : workers.length + 1
    },
    get reason() {
      return failure && `a worker failed to start (${failure}), so every share runs on the calling thread`
    },
    get jobs() {
      return Atomics.load(ctrl, 0)
    },
    byMessage: !node,
    run: (here, jobs) => {
      if (!started()) {
        here()
        for (const job of jobs) runHere(job)
        return
      }
      const start = Atomics.load(ctrl, 0)
      const k = Math.min(jobs.length, workers.length)
      for (let j = 0; j < k; j++) {
        const job = jobs[j]
        let id = ids.get(job.module)
        if (id === undefined) {
          id = ids.size
          ids.set(job.module, id)
          for (const w of workers) w.post({ t: 'module', id, module: job.module })
        }
        if (node) {
          if (job.args.length > SLOT - 4) throw new Error(`wasm threads: a job of ${job.args.length} arguments exceeds a worker's slot (${SLOT - 4})`)
          let name = nameIds.get(job.name)
          if (name === undefined) {
            name = nameIds.size
            nameIds.set(job.name, name)
            for (const w of workers) w.post({ t: 'name', id: name, name: job.name })
          }
          const base = 4 + j * SLOT
          ctrl[base + 1] = id
          ctrl[base + 2] = name
          ctrl[base + 3] = job.args.length
          for (let q = 0; q < job.args.length; q++) ctrl[base + 4 + q] = job.args[q]
          Atomics.store(ctrl, base, ++seqs[j])
          Atomics.notify(ctrl, base)
        } else workers[j].post({ t: 'job', id, name: job.name, args: job.args })
      }
      here()
      for (let j = k; j < jobs.length; j++) runHere(jobs[j])
      // a share takes microseconds to a few milliseconds: spin first (a futex sleep and wake-up costs more), then wait
      let spins = 0
      const deadline = Date.now() + 60_000
      for (let done = Atomics.load(ctrl, 0); done - start < k; done = Atomics.load(ctrl, 0)) {
        if (++spins < SPINS) continue
        if (Date.now() > deadline) throw new Error('wasm threads: a worker did not finish its share within 60 s')
        if (node) Atomics.wait(ctrl, 0, done, 1000)
      }
      if (Atomics.exchange(ctrl, 1, 0) !== 0) throw new Error('wasm threads: a kernel failed on a worker')
    },
  }
  if (events) {
    const all = new Promise<void>((resolve, reject) => {
      let count = 0
      events.onStarted = () => ++count === workers.length && resolve()
      events.onError = (message) => {
        failure ||= message
        reject(new Error(`wasm threads: ${pool.reason}`))
      }
    })
    all.catch(() => {}) // not unhandled: `reason` tells it too
    starts.set(pool, all)
  }
  return pool
}

/**
 * `total` items in `parts` consecutive ranges, each starting at a multiple of `grain` (the
 * last ones may be short or empty): the shares of a split kernel.
 * @example shareRanges(10, 2) // [{ start: 0, count: 5 }, { start: 5, count: 5 }]
 */
export const shareRanges = (total: number, parts: number, grain = 1): { start: number; count: number }[] => {
  const per = Math.ceil(total / parts / grain) * grain
  return Array.from({ length: parts }, (_, t) => ({ start: t * per, count: Math.max(0, Math.min(per, total - t * per)) }))
}

/**
 * A runner of export `name` of `kernels` on `pool`: given one argument list per share, it runs
 * the first on this thread and each other one as a job on a worker.
 */
export const sharesOf = (pool: Pool, kernels: Kernels, name: string): ((shares: readonly (readonly number[])[]) => void) => {
  const f = kernels.exports[name]
  const { module } = kernels
  return (shares) => pool.run(() => f(...shares[0]), shares.slice(1).map((args) => ({ module, name, args })))
}

const pools = new Map<number, Pool>()

/** The pool of `threads` threads (created on first use, shared by every backend asking for that many). */
export const poolOf = (threads: number): Pool => {
  let p = pools.get(threads)
  if (!p) {
    p = create(threads)
    pools.set(threads, p)
  }
  return p
}

/**
 * Resolves once `pool` hands shares to its workers: when every browser worker
 * has started (until then its `run` keeps every share on the calling thread);
 * at once for Node workers and for pools without workers. Rejects, with the
 * reason, when a browser worker fails to start.
 */
export const whenStarted = (pool: Pool): Promise<void> => starts.get(pool) ?? Promise.resolve()

/** The number of hardware threads (cores) of this machine, at least 1. */
export const hardwareThreads = (): number => {
  const g = globalThis as { navigator?: { hardwareConcurrency?: number }; process?: { getBuiltinModule?: (id: string) => unknown } }
  const os = g.process?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number; cpus(): unknown[] } | undefined
  const n = os ? (os.availableParallelism?.() ?? os.cpus().length) : (g.navigator?.hardwareConcurrency ?? 1)
  return Math.max(1, Math.min(8, n))
}

/**
 * Counts the page's Web Workers by the library that started them (read off
 * the stack at `new Worker`) and the messages posted to each library's
 * workers, so the tables can say whether a contender's steps handed work to
 * threads. Imported before any library starts a worker.
 */

/** Who started a worker. */
export type Owner = 'ours' | 'jax-js' | 'tfjs-wasm' | 'other'

const owners: readonly Owner[] = ['ours', 'jax-js', 'tfjs-wasm', 'other']
const started: Record<Owner, number> = { ours: 0, 'jax-js': 0, 'tfjs-wasm': 0, other: 0 }
const posted: Record<Owner, number> = { ours: 0, 'jax-js': 0, 'tfjs-wasm': 0, other: 0 }

const ownerOf = (stack: string): Owner =>
  /tfjs[-_]backend[-_]wasm/.test(stack) ? 'tfjs-wasm' : /jax[-_]js/.test(stack) ? 'jax-js' : /packages\/core\/src/.test(stack) ? 'ours' : 'other'

const Native = globalThis.Worker
globalThis.Worker = class CountedWorker extends Native {
  readonly owner: Owner
  constructor(url: string | URL, options?: WorkerOptions) {
    super(url, options)
    this.owner = ownerOf(new Error().stack ?? '')
    started[this.owner]++
  }
  override postMessage(message: unknown, options?: Transferable[] | StructuredSerializeOptions): void {
    posted[this.owner]++
    super.postMessage(message, options as StructuredSerializeOptions)
  }
}

/** Workers started so far, per library. */
export const workersStarted = (owner: Owner): number => started[owner]

/** Messages posted so far to the workers of each library. */
export const messagesPosted = (): Record<Owner, number> => ({ ...posted })

/** `after − before` for the owners that changed, e.g. 'jax-js 1,200' ('' when none did). */
export const messagesBetween = (before: Record<Owner, number>, after: Record<Owner, number>): string =>
  owners
    .filter((o) => after[o] !== before[o])
    .map((o) => `${o} ${(after[o] - before[o]).toLocaleString('en-US')}`)
    .join(', ')

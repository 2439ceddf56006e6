/**
 * The one WebAssembly.Memory of the process that wasm kernels run on, and an
 * allocator over it.
 *
 * With shared memory (a SharedArrayBuffer underneath), growing the memory does
 * not detach existing views, so tensor handles can be typed-array views into
 * it ("resident" handles): a compiled program then reads its inputs and writes
 * its outputs in place, with no copies. Blocks are 64-byte aligned (a cache
 * line). Handle blocks are freed when their handle is released (refcounted,
 * see `retain`/`release`) or, failing that, when the view is garbage
 * collected. Without shared memory, views detach on grow: `generation` counts
 * grows so that holders of views can rebuild them.
 * @internal
 */
import type { ArrayOf, DType, TypedArray } from '../../DType'
import { byteSize } from '../../DType'
import { detect } from './support'

const PAGE = 65536
const ALIGN = 64

/** A block of wasm memory owned by a JS object: freed when `free` is called or the block is collected. */
export interface Block {
  /** byte offset in the memory */
  readonly off: number
  readonly bytes: number
}

/** The process-wide wasm memory and its allocator. */
export interface Heap {
  readonly memory: WebAssembly.Memory
  /** true when the memory is shared (views survive grows) */
  readonly shared: boolean
  /** pages the memory may grow to */
  readonly maxPages: number
  /** bumped at every grow (views of a non-shared memory are then detached) */
  readonly generation: number
  /** a block of at least `bytes` bytes, 64-byte aligned, freed when the returned object is collected */
  block(bytes: number): Block
  /** frees a block now (it must not be used again) */
  freeBlock(b: Block): void
  /** a view of `n` elements of `dtype` at byte offset `off` of the current buffer */
  view<D extends DType>(dtype: D, off: number, n: number): ArrayOf[D]
  /** the byte offset of `a` when it is a view of this memory, else -1 */
  offsetOf(a: TypedArray): number
  /** a new tensor handle in wasm memory (zero-length: a plain empty array), reference count 0 */
  handle<D extends DType>(dtype: D, n: number): ArrayOf[D]
  /** one more reference to a handle made by `handle` (no-op for other arrays) */
  retain(a: TypedArray): void
  /** one reference less; the block is freed at zero (no-op for other arrays) */
  release(a: TypedArray): void
  /** bytes in live blocks, and the memory's size */
  usage(): { readonly live: number; readonly capacity: number }
}

const ctor = { float32: Float32Array, int32: Int32Array, bool: Uint8Array } as const

const create = (): Heap => {
  const shared = detect().shared
  let memory: WebAssembly.Memory | undefined
  let maxPages = 65536
  for (const max of [65536, 32768, 16384]) {
    try {
      memory = new WebAssembly.Memory({ initial: 256, maximum: max, shared } as WebAssembly.MemoryDescriptor)
      maxPages = max
      break
    } catch {
      memory = undefined
    }
  }
  if (!memory) throw new Error('wasm heap: cannot create a WebAssembly.Memory')
  const mem = memory
  const buffers = new WeakSet<ArrayBufferLike>([mem.buffer])
  let buffer: ArrayBufferLike = mem.buffer
  let generation = 0
  let top = ALIGN * 16 // keep address 0 unused
  let live = 0
  const sizes = new Map<number, number>()
  const freeList: [number, number][] = [] // [offset, size], sorted by offset, coalesced

  const grow = (end: number) => {
    const have = buffer.byteLength
    if (end <= have) return
    const pages = Math.ceil((end - have) / PAGE)
    const want = Math.min(maxPages - have / PAGE, Math.max(pages, Math.ceil(have / PAGE / 2)))
    if (want < pages) throw new RangeError(`wasm heap: out of memory (${have} bytes in use, ${end - have} more needed, limit ${maxPages * PAGE})`)
    mem.grow(want)
    buffer = mem.buffer
    buffers.add(buffer)
    generation++
  }

  const alloc = (bytes: number): number => {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN)
    let best = -1
    // best fit; an exact fit (the common case: a step allocates the sizes the last one freed) ends the search
    for (let i = 0; i < freeList.length; i++) {
      const s = freeList[i][1]
      if (s >= size && (best === -1 || s < freeList[best][1])) {
        best = i
        if (s === size) break
      }
    }
    let off: number
    if (best !== -1) {
      const f = freeList[best]
      off = f[0]
      if (f[1] === size) freeList.splice(best, 1)
      else f[0] += size, f[1] -= size
    } else {
      grow(top + size)
      off = top
      top += size
    }
    sizes.set(off, size)
    live += size
    return off
  }

  const free = (off: number) => {
    const size = sizes.get(off)
    if (size === undefined) return
    sizes.delete(off)
    live -= size
    let lo = 0
    let hi = freeList.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (freeList[mid][0] < off) lo = mid + 1
      else hi = mid
    }
    freeList.splice(lo, 0, [off, size])
    const next = freeList[lo + 1]
    if (next && freeList[lo][0] + freeList[lo][1] === next[0]) (freeList[lo][1] += next[1]), freeList.splice(lo + 1, 1)
    const prev = freeList[lo - 1]
    if (prev && prev[0] + prev[1] === freeList[lo][0]) (prev[1] += freeList[lo][1]), freeList.splice(lo, 1)
    const last = freeList[freeList.length - 1]
    if (last && last[0] + last[1] === top) (top = last[0]), freeList.pop()
  }

  const blocks = new FinalizationRegistry<number>(free)
  const owners = new WeakMap<TypedArray, { off: number; refs: number }>()
  const handles = new FinalizationRegistry<number>(free)

  const view = <D extends DType>(dtype: D, off: number, n: number): ArrayOf[D] => {
    if (buffer !== mem.buffer) (buffer = mem.buffer), buffers.add(buffer)
    return new ctor[dtype](buffer as ArrayBuffer, off, n) as ArrayOf[D]
  }

  return {
    memory: mem,
    shared,
    maxPages,
    get generation() {
      return generation
    },
    block: (bytes) => {
      const b = { off: alloc(bytes), bytes }
      blocks.register(b, b.off, b)
      return b
    },
    freeBlock: (b) => {
      blocks.unregister(b)
      free(b.off)
    },
    view,
    offsetOf: (a) => (buffers.has(a.buffer) ? a.byteOffset : -1),
    handle: <D extends DType>(dtype: D, n: number): ArrayOf[D] => {
      if (n === 0) return new ctor[dtype](0) as ArrayOf[D]
      const off = alloc(n * byteSize[dtype])
      const a = view(dtype, off, n)
      owners.set(a, { off, refs: 0 })
      handles.register(a, off, a)
      return a
    },
    retain: (a) => {
      const o = owners.get(a)
      if (o) o.refs++
    },
    release: (a) => {
      const o = owners.get(a)
      if (!o || --o.refs > 0) return
      owners.delete(a)
      handles.unregister(a)
      free(o.off)
    },
    usage: () => ({ live, capacity: buffer.byteLength }),
  }
}

let heap: Heap | undefined

/** The process-wide heap (created on first use). */
export const theHeap = (): Heap => (heap ??= create())

import type { Tensor } from '@frugal-ts/core'
import { Key } from '@frugal-ts/core'
import { FrugalError } from '../FrugalError'
import type { Projector, ProjectorContext } from './Projector'
import { flooredCount, roundedCount } from './Projector'
import { checkOptions } from '../internal/options'

/**
 * The order in which blocks (projectable leaves, in canonical tree order)
 * become active: `ascending` cycles through windows of k consecutive leaves
 * from the first, `descending` from the last, `mirror` pairs leaves from both
 * ends (first, last, second, second-to-last, …), `random` draws k leaves
 * afresh each period.
 * @example frugal({ learningRate: 1e-3, blockOrder: 'descending' })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export type BlockOrder = 'random' | 'ascending' | 'descending' | 'mirror'

/**
 * Options of `blocks`.
 * @example blocks({ order: 'mirror' })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface BlocksOptions {
  /** default `random` */
  readonly order?: BlockOrder
  /**
   * how ρ·L becomes a count of active blocks: `round` (default) Python's round, halves to even, as FRUGAL's code;
   * `floor` ⌊ρ·L⌋, as AdaFRUGAL's rule (arXiv 2601.11568)
   */
  readonly count?: BlockCount
}

/**
 * How the number of active blocks is taken from ρ·L: `round` (Python's, halves to even) or `floor`.
 * @example blocks({ count: 'floor' })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL); AdaFRUGAL, arXiv 2601.11568
 */
export type BlockCount = 'round' | 'floor'

/**
 * The state of an active block: nothing (the stateful optimizer sees the whole leaf).
 * @example blocks().init(w, ctx) // {} when active, null when not
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export type BlockState = Readonly<Record<string, never>>

const orders: readonly BlockOrder[] = ['random', 'ascending', 'descending', 'mirror']

const sequence = (order: Exclude<BlockOrder, 'random'>, total: number): number[] => {
  const up = Array.from({ length: total }, (_, i) => i)
  if (order === 'ascending') return up
  if (order === 'descending') return up.reverse()
  return up.map((i) => (i % 2 === 0 ? i / 2 : total - 1 - (i - 1) / 2))
}

/**
 * The indices of the active blocks in a period: k = round(ρ·total) of them,
 * with Python's `round` (halves to even, as the authors' `round(len(params) * density)`):
 * ρ = 0.25 of 10 leaves activates 2, of 14 leaves 4.
 * Deterministic orders slide a window of k over their sequence, starting at
 * `period·k` (mod total); `random` takes the first k of a permutation drawn
 * with the period's key.
 * @param order the block order
 * @param period how many refreshes came before
 * @param total the number of blocks (projectable leaves)
 * @param density ρ
 * @param periodKey the period's key (used by `random`)
 * @param count `round` (default) or `floor` of ρ·total
 * @returns the active indices, ascending
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL §3, blockwise selection); BAdam, arXiv 2404.02827
 * @example activeBlocks('ascending', 1, 4, 0.5, Key.key(0)) // [2, 3]
 * @example activeBlocks('descending', 0, 4, 0.5, Key.key(0)) // [2, 3]
 * @example activeBlocks('ascending', 0, 10, 0.25, Key.key(0)) // [0, 1] (round(2.5) = 2)
 */
export const activeBlocks = (order: BlockOrder, period: number, total: number, density: number, periodKey: Key.Key, count: BlockCount = 'round'): number[] => {
  const k = count === 'floor' ? flooredCount(density, total) : roundedCount(density, total)
  if (k === 0) return []
  if (order === 'random') return Array.from(Key.permutation(periodKey, total).dataSync().subarray(0, k)).sort((a, b) => a - b)
  const seq = sequence(order, total)
  const start = (period * k) % total
  return Array.from({ length: k }, (_, j) => seq[(start + j) % total]).sort((a, b) => a - b)
}

const ACTIVE: BlockState = Object.freeze({})

/**
 * Block projection (BAdam-style): in each period round(ρ·L) (Python's round, halves to even) of the L
 * projectable leaves are active and get the stateful optimizer on their whole
 * gradient; the others are inactive (state `null`): they get only the
 * state-free update and hold no stateful state at all. `down` and `up` are
 * the identity and the residual of an active block is zero.
 * @param options order (default `random`) and count (default `round`)
 * @returns a projector whose state is `{}` for active leaves and `null` for inactive ones
 * @throws FrugalError for an unknown order
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL §3, blockwise selection); BAdam, arXiv 2404.02827
 * @example
 * const p = blocks({ order: 'descending' })
 * p.init(w, { ...standaloneContext(0.5), index: 3, total: 4 }) // {} (active: the last two of four)
 */
export const blocks = (options: BlocksOptions = {}): Projector<BlockState> => {
  checkOptions(options, ['order', 'count'], 'blocks')
  const { order = 'random', count = 'round' } = options
  if (!orders.includes(order))
    throw new FrugalError(`order must be one of ${orders.join(', ')}, got ${JSON.stringify(order)} (at blocks.order)`)
  if (count !== 'round' && count !== 'floor')
    throw new FrugalError(`count must be 'round' or 'floor', got ${JSON.stringify(count)} (at blocks.count)`)
  // every leaf of a refresh asks for the same period's choice: it is drawn once (one permutation, not one per leaf)
  let last: { readonly key: string; readonly active: ReadonlySet<number> } | null = null
  const choose = (ctx: ProjectorContext): BlockState | null => {
    const key = `${ctx.period}|${ctx.total}|${ctx.density}|${Array.from(ctx.periodKey.dataSync()).join(',')}`
    if (last === null || last.key !== key) last = { key, active: new Set(activeBlocks(order, ctx.period, ctx.total, ctx.density, ctx.periodKey, count)) }
    return last.active.has(ctx.index) ? ACTIVE : null
  }
  return {
    name: 'blocks',
    validate: () => undefined,
    init: (_param, ctx) => choose(ctx),
    refresh: (_grad, _previous, ctx) => choose(ctx),
    lowShape: (shape) => shape,
    down: (g: Tensor) => g,
    up: (low: Tensor) => low,
    residual: () => null,
  }
}

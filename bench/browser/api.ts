/**
 * What bench/browser.ts and its page (main.ts) exchange through
 * `page.evaluate`: plain JSON, no typed arrays.
 */

/** The tables the page can run. */
export type TableName = 'adam' | 'matmul' | 'mlp'

/** What the page found at setup: the browser, its isolation, and what each contender runs on. */
export interface Info {
  readonly userAgent: string
  readonly crossOriginIsolated: boolean
  readonly hardwareConcurrency: number
  readonly sharedArrayBuffer: boolean
  /** one line per contender library: its path, threads or why it has none */
  readonly contenders: readonly string[]
}

/** One contender of a table: its timed samples (ms) and a strided sample of its output, or why it was skipped. */
export interface RowJson {
  readonly name: string
  readonly samples?: readonly number[]
  readonly skipped?: string
  /** every `stride`-th element of the contender's output, for the check column */
  readonly check?: readonly number[]
  /** what ran, and what its worker threads did during the timed steps */
  readonly note?: string
}

/** The parts a table's rows play, for its ratios and target lines. */
export type Role = 'floor' | 'ours1' | 'oursN' | 'tf' | 'jaxSync' | 'jaxAsync'

/** A table's rows, in the order the page made them. */
export interface TableJson {
  readonly rows: readonly RowJson[]
  /** the name of the row playing each part (absent: no such row in this table) */
  readonly roles: Partial<Record<Role, string>>
  /** threads of our all-threads backend */
  readonly threads: number
  /** the workload's size: parameters (adam), n (matmul n×n), batch (mlp) */
  readonly size: number
  /** the stride of the check samples */
  readonly stride: number
}

/** The functions the page puts on `window.bench`. */
export interface BenchApi {
  /** loads the libraries (tfjs's .wasm files from `tfWasmDir`, a URL path ending in '/') and says what runs where */
  setup(options: { readonly tfWasmDir: string }): Promise<Info>
  /** runs one table: warm-up steps, then `rounds` interleaved rounds */
  run(table: TableName, rounds: number): Promise<TableJson>
}

declare global {
  interface Window {
    bench: BenchApi
  }
}

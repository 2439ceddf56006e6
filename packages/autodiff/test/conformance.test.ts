import { conformance } from '@frugal-ts/core/testing'
import { grad, jit } from '../src'

// The reference backend `cpu-js` under jit: its compiled programs (fused elementwise loops,
// planned buffers: other code than its eager kernels) against its eager kernels, with
// jit and jit(grad) of an MLP loss. Its eager primitives are reported as skipped (they are
// the reference); core's tests check them against float64 references index by index, and
// wasm-conformance.test.ts runs the wasm path of `cpu`, eager and jitted, against them.
conformance('cpu-js', { autodiff: { grad, jit } })

import { conformance } from '@frugal-ts/core/testing'
import { grad, jit } from '../src'

// The reference backend against itself, with grad, jit and jit(grad) of an MLP loss:
// proves the suite every backend runs works end to end, autodiff included.
conformance('cpu', { autodiff: { grad, jit } })

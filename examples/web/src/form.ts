/**
 * Reading the form into a `RunSpec`, with errors that say which field was
 * wrong, what it held, and how to fix it. The optimizer's own checks (the
 * density range) are the library's: `makeOptimizer` runs here, before any
 * backend starts, so a bad value never costs a run.
 */
import { FrugalError } from '@frugal-ts/frugal'
import { BACKENDS, OPTIMIZERS, isBackendChoice, isOptimizerChoice } from './choices'
import type { RunSpec } from './train'
import { makeOptimizer } from './train'

/** A mistake in the form. */
export class FormError extends Error {
  override readonly name = 'FormError'
  /**
   * @param field the form field (its element id)
   * @param message what was wrong
   * @param fix what to do about it
   */
  constructor(
    readonly field: string,
    message: string,
    readonly fix: string,
  ) {
    super(message)
  }
}

const numberIn = (field: string, raw: string, what: string, fix: string): number => {
  const v = raw.trim() === '' ? NaN : Number(raw)
  if (!Number.isFinite(v)) throw new FormError(field, `${what} must be a number, got ${JSON.stringify(raw)}`, fix)
  return v
}

/** The form's values, as text. */
export interface FormValues {
  readonly optimizer: string
  readonly density: string
  readonly backend: string
  readonly steps: string
  readonly lr: string
}

/**
 * Checks the form and builds the run's spec.
 * @throws FormError naming the field
 * @example readSpec({ optimizer: 'frugal', density: '1.5', backend: 'cpu', steps: '200', lr: '0.01' }, 0)
 *   // FormError: density must be in [0, 1], got 1.5 (at frugal.density)
 */
export const readSpec = (f: FormValues, seed: number): RunSpec => {
  if (!isOptimizerChoice(f.optimizer))
    throw new FormError('optimizer', `unknown optimizer ${JSON.stringify(f.optimizer)}`, `Pick one of ${Object.values(OPTIMIZERS).join(', ')}.`)
  if (!isBackendChoice(f.backend))
    throw new FormError('backend', `unknown backend ${JSON.stringify(f.backend)}`, `Pick one of ${Object.values(BACKENDS).join(', ')}.`)
  const densityFix = 'Type a density between 0 and 1 (0.25 is the paper\'s default; 0 = signSGD on every linear layer, 1 = Adam everywhere), or use the slider.'
  // Adam updates every parameter: the density box is not used
  const density = f.optimizer === 'adam' ? 1 : numberIn('density', f.density, 'density', densityFix)
  const steps = numberIn('steps', f.steps, 'steps', 'Type a whole number of steps, e.g. 200.')
  if (!Number.isInteger(steps) || steps < 1 || steps > 100_000)
    throw new FormError('steps', `steps must be a whole number from 1 to 100000, got ${f.steps}`, 'Type a whole number of steps, e.g. 200.')
  const lr = numberIn('lr', f.lr, 'learning rate', 'Type a positive learning rate, e.g. 0.01.')
  if (!(lr > 0 && lr < 10)) throw new FormError('lr', `learning rate must be in (0, 10), got ${f.lr}`, 'Type a positive learning rate, e.g. 0.01.')
  const spec: RunSpec = { optimizer: f.optimizer, density, backend: f.backend, steps, lr, seed }
  try {
    makeOptimizer(spec)
  } catch (e) {
    if (!(e instanceof FrugalError)) throw e
    const field = /density/.test(e.message) ? 'density' : 'optimizer'
    throw new FormError(field, e.message, field === 'density' ? densityFix : 'Change the optimizer options.')
  }
  return spec
}

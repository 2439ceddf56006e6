/**
 * `@frugal-ts/frugal`: optax-style gradient transformations and FRUGAL
 * (Full-Rank Updates with GrAdient spLitting; Zmushko et al., arXiv 2411.07837):
 * a projector picks a subspace of each gradient that a stateful optimizer
 * updates, and the residual gets a state-free update.
 * Node-only checkpoint file helpers live in `@frugal-ts/frugal/node`.
 * @example
 * import { applyUpdates, chain, clipByGlobalNorm, frugal } from '@frugal-ts/frugal'
 * const optimizer = chain(clipByGlobalNorm(1), frugal({ learningRate: 1e-3, density: 0.25 }))
 * let state = optimizer.init(params)
 * const { updates, state: next } = optimizer.update(grads, state, params)
 * params = applyUpdates(params, updates)
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 * @packageDocumentation
 * @module @frugal-ts/frugal
 */
export type { EmptyState, GradientTransformation, Params, UpdateResult } from './GradientTransformation'
export { applyUpdates, emptyState } from './GradientTransformation'
export { FrugalError } from './FrugalError'

export type {
  CosineDecayOptions, ExponentialDecayOptions, PolynomialScheduleOptions, ScalarOrSchedule, Schedule, WarmupCosineDecayOptions,
} from './schedules'
export {
  constantSchedule, cosineDecaySchedule, exponentialDecay, joinSchedules, linearSchedule, piecewiseConstantSchedule,
  polynomialSchedule, scheduleValue, warmupCosineDecaySchedule,
} from './schedules'

export type { Hyper } from './transforms/common'
export { safeIncrement } from './transforms/common'
export type { ScaleByLearningRateState, ScaleByScheduleState } from './transforms/basic'
export { clip, clipByGlobalNorm, globalNorm, identity, scale, scaleByLearningRate, scaleBySchedule, scaleBySign } from './transforms/basic'
export type { ScaleByAdamOptions, ScaleByAdamState } from './transforms/adam'
export { scaleByAdam } from './transforms/adam'
export type { ScaleByLionOptions, ScaleByLionState } from './transforms/lion'
export { scaleByLion } from './transforms/lion'
export type { TraceOptions, TraceState } from './transforms/trace'
export { trace } from './transforms/trace'
export { addDecayedWeights } from './transforms/weightDecay'

export type { LeafFn, LeafSpec } from './combinators/slots'
export type { ChainState, StateOf } from './combinators/chain'
export { chain } from './combinators/chain'
export type { PartitionState } from './combinators/partition'
export { partition } from './combinators/partition'
export type { MaskedState } from './combinators/masked'
export { masked } from './combinators/masked'
export type { Injectable, InjectableFactory, InjectHyperparamsOptions, InjectHyperparamsState } from './combinators/injectHyperparams'
export { injectHyperparams, setHyperparam } from './combinators/injectHyperparams'
export type { MultiStepsState } from './combinators/multiSteps'
export { multiSteps } from './combinators/multiSteps'
export type { ApplyIfFiniteState } from './combinators/applyIfFinite'
export { allFinite, applyIfFinite } from './combinators/applyIfFinite'

export type {
  AdamOptions, AdamState, AdamWOptions, AdamWState, LearningRate, LionOptions, LionState, SgdOptions, SgdState, SignSgdState,
  SignumOptions, SignumState, WithLearningRate,
} from './aliases'
export { adam, adamw, lion, momentum, sgd, signSgd, signum } from './aliases'

export type { Projector, ProjectorContext } from './projectors/Projector'
export { flooredCount, residualOf, roundHalfEven, roundedCount, standaloneContext } from './projectors/Projector'
export type { SvdProjectorOptions, SvdProjectorState, SvdSide, SvdType } from './projectors/svd'
export { svdProjector } from './projectors/svd'
export type { CoordinateMode, CoordinatesOptions, CoordinatesState } from './projectors/coordinates'
export { coordinates } from './projectors/coordinates'
export type { BlockCount, BlockOrder, BlocksOptions, BlockState } from './projectors/blocks'
export { activeBlocks, blocks } from './projectors/blocks'

export type { FrugalSplitOptions, FrugalTransformation, StateFree } from './frugal/split'
export { frugalSplit } from './frugal/split'
export type { AdaFrugalOptions, FrugalAdamTransformation, FrugalOptions, ProjectorChoice } from './frugal/presets'
export { adaFrugal, badam, frugal, galore } from './frugal/presets'
export type { FrugalFinetuneOptions } from './frugal/finetune'
export { QUERY_VALUE, frugalFinetune, onlyOn } from './frugal/finetune'
export type { ProjectableRule } from './frugal/projectable'
export { defaultProjectable, projectablePredicate } from './frugal/projectable'
export type { Density, GapSchedule, LossAwareGapOptions, UpdateGap } from './frugal/schedules'
export type { AdaFrugalGapOptions } from './frugal/schedules'
export { adaFrugalGap, gapSchedule, linearDensity, lossAwareGap } from './frugal/schedules'
export type { FrugalState, LeafState, ProjectedLeafState, RegularLeafState } from './frugal/state'
export { isProjected, recordLoss } from './frugal/state'

export type { TrainStep, TrainStepMode, TrainStepOptions, TrainStepResult } from './trainStep'
export { trainStep } from './trainStep'

export type { StateBytesEntry } from './stateBytes'
export { stateBytes, stateBytesByParam, stateBytesEntries } from './stateBytes'
export type { DecodeOptimizerStateOptions } from './checkpoint'
export { decodeOptimizerState, decodeOptimizerStateBinary, encodeOptimizerState, encodeOptimizerStateBinary } from './checkpoint'
export type { RunCheckpoint, RunCheckpointLike } from './runCheckpoint'
export { decodeRunCheckpoint, encodeRunCheckpoint } from './runCheckpoint'
export { crc32, crc32Hex } from './crc32'

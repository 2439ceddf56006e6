import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { Key, Tree, add, dispose, fromArray, keep, mul, scope } from '@frugal-ts/core'
import type { Params } from '@frugal-ts/frugal'
import { scheduleValue, trainStep } from '@frugal-ts/frugal'
import type { ModelConfig } from '@frugal-ts/example-llama/src/model'
import { initParams, lmLoss } from '@frugal-ts/example-llama/src/model'
import type { LlamaParams } from '@frugal-ts/example-llama/src/model'
import { learningRate, makeOptimizer } from '@frugal-ts/example-llama/src/optimizers'
import type { Start } from '../torch/contender'
import { OPENBLAS, handover, startTorch } from '../torch/contender'

// bench/torch/llama_step.py is the same model and optimizer as ours: on a small model of a shape unlike the
// main job's (2 heads, MLP hidden 48, context 8) with weight decay and a large learning rate, from the same
// weights over the same batches, the two give the same losses step after step (float32 round-off apart)
const python = process.env.PYTHON ?? '/usr/bin/python3'
const probe = spawnSync(python, ['-c', 'import torch'], { env: { ...process.env, LD_LIBRARY_PATH: OPENBLAS }, encoding: 'utf8' })
const noTorch = probe.error ? `${python} could not start (${probe.error.message})` : probe.status !== 0 ? `PyTorch is not importable: ${probe.stderr.trim().split('\n').at(-1)}` : ''
if (noTorch) console.warn(`bench/test/torch-step: skipped (${noTorch})`)

const model: ModelConfig = { vocab: 256, layers: 2, width: 16, heads: 2, context: 8 }
const batch = 3
const steps = 8
const optimizer = {
  optimizer: 'adam', density: 1, updateGap: 1, projection: 'blocks', stateFree: 'none', stateful: 'adam', stateFreeScale: 1, weightDecay: 0.1,
} as const
const schedule = { lr: 1e-2, steps: 10, warmup: 0.2, endFraction: 0.1 }
const dir = mkdtempSync(join(tmpdir(), 'torch-step-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe.skipIf(noTorch !== '')('bench/torch/llama_step.py against ours', () => {
  it('the same losses over 8 steps of AdamW (weight decay 0.1, warmup-cosine to lr 1e-2), and the same learning rates', async () => {
    // weights 10× the init's (std 0.2): attention scores of order one, so the softmax, the mask and RoPE matter
    const params = keep(scope(() => Tree.map(initParams(model, Key.key(7)) as never, (w: Tensor) => (w.rank === 2 ? mul(w, 10) : add(w, 0))))) as unknown as LlamaParams
    // one batch of bytes from a fixed rule, seen at every step: the loss falls as the model learns it
    const tokens = Int32Array.from({ length: batch * (model.context + 1) }, (_, j) => (j * 37 + ((j * j) % 13)) % 256)
    const batches = Array.from({ length: steps }, () => tokens)
    const start: Start = { model, batch, params, batches, adam: { b1: 0.9, b2: 0.999, eps: 1e-8, weightDecay: optimizer.weightDecay }, schedule }
    const torch = startTorch(python, 1, handover(dir, start))
    try {
      expect((await torch.first).ready).toBe(true)
      const opt = makeOptimizer(optimizer, schedule)
      const step = trainStep((p: LlamaParams, tokens: Tensor) => lmLoss(p, tokens, model.heads), opt)
      let p = params
      let s = keep(scope(() => opt.init(p as unknown as Params)))
      const ours: number[] = []
      const theirs: number[] = []
      for (let i = 0; i < steps; i++) {
        const input = fromArray(batches[i], [batch, model.context + 1], 'int32')
        const r = step(p, s, input)
        dispose(input)
        ;({ params: p, state: s } = r)
        ours.push(r.loss)
        const t = await torch.ask('step')
        expect(t.error).toBeUndefined()
        theirs.push(t.loss!)
        const lr = scope(() => scheduleValue(learningRate(schedule), i))
        expect(Math.abs(t.lr! - lr)).toBeLessThanOrEqual(1e-5 * lr)
      }
      dispose([p, s])
      // the losses move: the optimizer is exercised, not just the forward pass
      expect(ours[0] - ours[steps - 1]).toBeGreaterThan(0.05)
      const diff = Math.max(...ours.map((l, i) => Math.abs(l - theirs[i]) / (1 + Math.abs(theirs[i]))))
      // measured: 1.6e-6; RoPE with one sign flipped: 1.4e-2; weight decay left out: 3.8e-3
      expect(diff).toBeLessThan(1e-5)
    } finally {
      torch.quit()
    }
  })
})

/**
 * The kernel table of the gpujs backend: every primitive runs its plan (one
 * generated gpu.js kernel per primitive and shape signature, built once).
 *
 * int32 data beyond ±2^24 is not exact in float32 textures. Such data, when
 * it comes from the host (PRNG keys), is also kept exactly on the host, and
 * any primitive reading it runs on the reference `cpu` kernels instead, so
 * it round-trips and moves bit-exactly.
 * @internal
 */
import type { Aval, KernelTable, Primitive } from '@frugal-ts/core'
import { getBackend } from '@frugal-ts/core'
import type { Device, GpujsHandle } from './device'
import type { Plan } from './stage'
import { planOf, primitives } from './plan'


/** A cache of plans by primitive, params and input avals. */
export class Plans {
  private readonly cache = new Map<string, Plan>()
  of(prim: Primitive, avals: readonly Aval[], params: unknown, out: Aval): Plan {
    const key = `${prim}${JSON.stringify(params)}${avals.map((a) => `${a.dtype}[${a.shape.join(',')}]`).join('')}>${out.dtype}`
    let p = this.cache.get(key)
    if (!p) {
      p = planOf(prim, avals, params, out)
      this.cache.set(key, p)
    }
    return p
  }
}

/** Runs `prim` on the reference cpu kernels, on the inputs' exact host data, and uploads the result. */
const onHost = (dev: Device, prim: Primitive, inputs: readonly GpujsHandle[], avals: readonly Aval[], params: unknown, out: Aval): GpujsHandle => {
  const cpu = getBackend('cpu')
  const host = inputs.map((h) => h.buffer?.host ?? cpu.fromHost(readAs(dev, h), h))
  const r = (cpu.kernels[prim] as (h: readonly unknown[], a: readonly Aval[], p: unknown, o: Aval) => unknown)(host, avals, params, out)
  const data = cpu.readSync(r, out)
  inputs.forEach((h, k) => h.buffer?.host || cpu.dispose(host[k], h))
  cpu.dispose(r, out)
  return dev.handle(dev.upload(data, out.dtype), out.shape, out.dtype)
}

/** The handle's data as a host array of its dtype (int32 clamped, bool 0/1). */
export const readAs = (dev: Device, h: GpujsHandle): Float32Array | Int32Array | Uint8Array => {
  const b = h.buffer
  if (b?.host) return Int32Array.from(b.host)
  const f = dev.download(b)
  if (h.dtype === 'float32') return Float32Array.from(f)
  if (h.dtype === 'bool') return Uint8Array.from(f, (v) => (v !== 0 ? 1 : 0))
  return Int32Array.from(f, (v) => (v >= 2147483647 ? 2147483647 : v <= -2147483648 ? -2147483648 : v | 0))
}

/** The kernel table over `dev`. */
export const kernelTable = (dev: Device, plans: Plans): KernelTable<GpujsHandle> => {
  const kernelOf = (prim: Primitive) => (inputs: readonly GpujsHandle[], avals: readonly Aval[], params: unknown, out: Aval) => {
    if (prim !== 'reshape' && inputs.some((h) => h.buffer?.host)) return onHost(dev, prim, inputs, avals, params, out)
    return dev.runPlan(plans.of(prim, avals, params, out), inputs, out.shape, out.dtype)
  }
  return Object.fromEntries(primitives.map((p) => [p, kernelOf(p)])) as unknown as KernelTable<GpujsHandle>
}

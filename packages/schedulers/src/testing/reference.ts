/**
 * Test helper: float64 re-derivations of Diffusers' scheduler formulas on plain arrays,
 * written from scheduling_ddpm.py / scheduling_ddim.py / scheduling_pndm.py, element by element.
 * Used to check the options the stored fixtures do not cover.
 */

type Vector = Float64Array;

const map2 = (a: Vector, b: Vector, f: (x: number, y: number) => number): Vector => a.map((x, i) => f(x, b[i]));

/** x0 from the model output (`prediction_type`). */
export function referenceOriginal(type: string, output: Vector, sample: Vector, alphaBar: number): Vector {
  const beta = 1 - alphaBar;
  if (type === 'epsilon') return map2(sample, output, (x, e) => (x - beta ** 0.5 * e) / alphaBar ** 0.5);
  if (type === 'sample') return output.slice();
  return map2(sample, output, (x, v) => alphaBar ** 0.5 * x - beta ** 0.5 * v);
}

/** ε from the model output. */
export function referenceEpsilon(type: string, output: Vector, sample: Vector, alphaBar: number): Vector {
  const beta = 1 - alphaBar;
  if (type === 'epsilon') return output.slice();
  if (type === 'sample') return map2(sample, output, (x, x0) => (x - alphaBar ** 0.5 * x0) / beta ** 0.5);
  return map2(sample, output, (x, v) => alphaBar ** 0.5 * v + beta ** 0.5 * x);
}

/** torch.quantile (linear) of |x| per batch item, clamp to [1, max], clip and divide. */
export function referenceThreshold(x0: Vector, batch: number, ratio: number, maxValue: number): Vector {
  const count = x0.length / batch;
  const out = new Float64Array(x0.length);
  for (let b = 0; b < batch; b += 1) {
    const item = x0.subarray(b * count, (b + 1) * count);
    const sorted = Array.from(item, Math.abs).sort((p, q) => p - q);
    const rank = ratio * (count - 1);
    const low = Math.floor(rank);
    const high = Math.ceil(rank);
    const quantile = sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    const s = Math.min(Math.max(quantile, 1), maxValue);
    for (let i = 0; i < count; i += 1) out[b * count + i] = Math.min(Math.max(item[i], -s), s) / s;
  }
  return out;
}

/** Options of the reference DDIM step. */
export interface ReferenceDdim {
  alphasCumprod: Float64Array;
  finalAlphaCumprod: number;
  stride: number;
  predictionType: string;
  clip?: number;
  threshold?: { batch: number; ratio: number; maxValue: number };
  eta: number;
  useClipped: boolean;
}

/** One DDIM step (eq. 12 with σ from eq. 16). */
export function referenceDdimStep(r: ReferenceDdim, output: Vector, t: number, sample: Vector, noise?: Vector) {
  const prev = t - r.stride;
  const ab = r.alphasCumprod[t];
  const abPrev = prev >= 0 ? r.alphasCumprod[prev] : r.finalAlphaCumprod;
  let x0 = referenceOriginal(r.predictionType, output, sample, ab);
  let eps = referenceEpsilon(r.predictionType, output, sample, ab);
  if (r.threshold) x0 = referenceThreshold(x0, r.threshold.batch, r.threshold.ratio, r.threshold.maxValue);
  else if (r.clip !== undefined) x0 = x0.map((v) => Math.min(Math.max(v, -r.clip!), r.clip!));
  const variance = ((1 - abPrev) / (1 - ab)) * (1 - ab / abPrev);
  const std = r.eta * variance ** 0.5;
  if (r.useClipped) eps = map2(sample, x0, (x, z) => (x - ab ** 0.5 * z) / (1 - ab) ** 0.5);
  const direction = (1 - abPrev - std ** 2) ** 0.5;
  const prevSample = x0.map((z, i) => abPrev ** 0.5 * z + direction * eps[i] + (r.eta > 0 ? std * noise![i] : 0));
  return { prevSample, x0 };
}

/** One DDPM step (eq. 7) with the effective beta between t and prev. */
export function referenceDdpmStep(
  alphasCumprod: Float64Array,
  predictionType: string,
  varianceType: string,
  output: Vector,
  predictedVariance: Vector | null,
  t: number,
  prev: number,
  sample: Vector,
  noise: Vector,
  clip?: number,
) {
  const ab = alphasCumprod[t];
  const abPrev = prev >= 0 ? alphasCumprod[prev] : 1;
  const alphaT = ab / abPrev;
  const betaT = 1 - alphaT;
  let x0 = referenceOriginal(predictionType, output, sample, ab);
  if (clip !== undefined) x0 = x0.map((v) => Math.min(Math.max(v, -clip), clip));
  const c0 = (abPrev ** 0.5 * betaT) / (1 - ab);
  const ct = (alphaT ** 0.5 * (1 - abPrev)) / (1 - ab);
  const small = Math.max(((1 - abPrev) / (1 - ab)) * betaT, 1e-20);
  const std = (i: number): number => {
    switch (varianceType) {
      case 'fixed_small':
      case 'fixed_small_log':
        return Math.exp(0.5 * Math.log(small));
      case 'fixed_large':
        return betaT ** 0.5;
      case 'learned':
        return predictedVariance![i] ** 0.5;
      case 'learned_range': {
        const frac = (predictedVariance![i] + 1) / 2;
        return Math.exp(0.5 * (frac * Math.log(betaT) + (1 - frac) * Math.log(small)));
      }
      default:
        throw new Error(varianceType);
    }
  };
  const prevSample = x0.map((z, i) => c0 * z + ct * sample[i] + (t > 0 ? std(i) * noise[i] : 0));
  return { prevSample, x0 };
}

/** A float64 PNDM (PRK + PLMS) loop, state machine as in scheduling_pndm.py. */
export function referencePndmLoop(
  alphasCumprod: Float64Array,
  finalAlphaCumprod: number,
  numTrain: number,
  numInference: number,
  prkTimesteps: number[],
  timesteps: number[],
  skipPrk: boolean,
  predictionType: string,
  start: Vector,
  model: (x: Vector, t: number) => Vector,
): Vector[] {
  const ets: Vector[] = [];
  let counter = 0;
  let cur: Vector | null = null;
  let curSample: Vector | null = null;
  const prevOf = (sample: Vector, t: number, prevT: number, e: Vector): Vector => {
    const ab = alphasCumprod[t];
    const abPrev = prevT >= 0 ? alphasCumprod[prevT] : finalAlphaCumprod;
    const eps = predictionType === 'v_prediction' ? map2(e, sample, (v, x) => ab ** 0.5 * v + (1 - ab) ** 0.5 * x) : e;
    const coeff = (abPrev / ab) ** 0.5;
    const denom = ab * (1 - abPrev) ** 0.5 + (ab * (1 - ab) * abPrev) ** 0.5;
    return map2(sample, eps, (x, m) => coeff * x - ((abPrev - ab) * m) / denom);
  };
  const out: Vector[] = [];
  let sample = start;
  for (const t of timesteps) {
    let e = model(sample, t);
    let next: Vector;
    if (counter < prkTimesteps.length && !skipPrk) {
      const diff = counter % 2 ? 0 : Math.floor(numTrain / numInference / 2);
      const prevT = t - diff;
      const t0 = prkTimesteps[Math.floor(counter / 4) * 4];
      if (counter % 4 === 0) {
        cur = e.map((v) => v / 6);
        ets.push(e);
        curSample = sample;
      } else if (counter % 4 === 1 || counter % 4 === 2) {
        cur = map2(cur!, e, (c, v) => c + v / 3);
      } else {
        e = map2(cur!, e, (c, v) => c + v / 6);
        cur = null;
      }
      next = prevOf(curSample ?? sample, t0, prevT, e);
    } else {
      let prevT = t - Math.floor(numTrain / numInference);
      let tt = t;
      if (counter !== 1) {
        ets.splice(0, Math.max(0, ets.length - 3));
        ets.push(e);
      } else {
        prevT = t;
        tt = t + Math.floor(numTrain / numInference);
      }
      let from = sample;
      const n = ets.length;
      const E = (k: number) => ets[n - k];
      if (n === 1 && counter === 0) curSample = sample;
      else if (n === 1 && counter === 1) {
        e = map2(e, E(1), (a, b) => (a + b) / 2);
        from = curSample!;
        curSample = null;
      } else if (n === 2) e = map2(E(1), E(2), (a, b) => (3 * a - b) / 2);
      else if (n === 3) e = E(1).map((a, i) => (23 * a - 16 * E(2)[i] + 5 * E(3)[i]) / 12);
      else e = E(1).map((a, i) => (55 * a - 59 * E(2)[i] + 37 * E(3)[i] - 9 * E(4)[i]) / 24);
      next = prevOf(from, tt, prevT, e);
    }
    counter += 1;
    out.push(next);
    sample = next;
  }
  return out;
}

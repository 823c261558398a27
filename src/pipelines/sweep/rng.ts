import { Random } from '../../training/index.js';

/**
 * The samplers' seeded randomness. Sweeps must be reproducible from their seed alone (a
 * restarted runner proposes the same trials), so nothing here reads Math.random.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (mean 0, standard deviation 1). */
  normal(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** The project's seeded generator (xoshiro128**, `training/random.ts`) under the samplers' names. */
function seeded(word: number): Rng {
  const r = new Random(word);
  return { next: () => r.uniform(), normal: () => r.normal(), int: (n) => r.int(n) };
}

/** Scrambles 32-bit words so that nearby seeds (1, 2, 3 …) start far apart. */
function mix(h: number, v: number): number {
  let x = (h ^ Math.imul(v >>> 0, 0x9e3779b1)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Folds any finite number (negative, fractional, beyond 32 bits) into a 32-bit seed. */
function seedWord(seed: number): number {
  if (Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff) return seed;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, seed);
  return mix(view.getUint32(0), view.getUint32(4));
}

export function createRng(seed: number): Rng {
  return seeded(mix(0x2545f491, seedWord(seed)));
}

/**
 * The stream of one trial of a seeded sweep: a function of (seed, trial number) only, so the n-th
 * suggestion does not depend on how many suggestions an earlier process made before it stopped.
 */
export function trialRng(seed: number, trialNumber: number): Rng {
  return seeded(mix(mix(0x2545f491, seedWord(seed)), seedWord(trialNumber)));
}

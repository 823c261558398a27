/**
 * A small seeded pseudo-random generator for the samplers. Sweeps must be reproducible from their
 * seed alone (a restarted runner proposes the same trials), so nothing here reads Math.random.
 * mulberry32 (Tommy Ettinger's 32-bit generator) is plenty for drawing hyperparameters: it is fast,
 * passes the usual statistical batteries for this use, and its whole state is one integer.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (mean 0, standard deviation 1). */
  normal(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

class Mulberry32 implements Rng {
  private state: number;
  /** Box–Muller yields two normals per pair of uniforms; the second waits here. */
  private spare: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  normal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    // 1 - next() is in (0, 1], so the logarithm is finite.
    const r = Math.sqrt(-2 * Math.log(1 - this.next()));
    const theta = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.next() * n));
  }
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
  return new Mulberry32(mix(0x2545f491, seedWord(seed)));
}

/**
 * The stream of one trial of a seeded sweep: a function of (seed, trial number) only, so the n-th
 * suggestion does not depend on how many suggestions an earlier process made before it stopped.
 */
export function trialRng(seed: number, trialNumber: number): Rng {
  return new Mulberry32(mix(mix(0x2545f491, seedWord(seed)), seedWord(trialNumber)));
}

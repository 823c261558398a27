import { FluxError, invalid } from '../core/index.js';
import type { ClassLabel, GbdtModel } from './format.js';

/**
 * How a feature matrix carries a GBDT model's inputs: numbers as they are (NaN = missing); a
 * categorical input with numeric categories as its value; a text input as its category's position
 * in the model's `categories` list. `encodeCategory` turns a text cell into that position.
 */
export interface CategoryCodec {
  /** Per input (signature order): for text inputs, category → position; else null. */
  readonly text: ReadonlyArray<ReadonlyMap<string, number> | null>;
}

/** A GBDT model compiled to flat typed arrays: prediction walks them with no allocation per node. */
export interface CompiledEnsemble {
  readonly d: number;
  readonly K: number;
  /** Raw scores (n×K) of a row-major n×d matrix. */
  raw(X: Float64Array, n: number): Float64Array;
  /** Calls `each` with the raw scores of the baseline and then after each boosting iteration (the same array, updated). */
  staged(X: Float64Array, n: number, each: (raw: Float64Array) => void): void;
  readonly codec: CategoryCodec;
}

export function compileEnsemble(m: GbdtModel): CompiledEnsemble {
  const d = m.signature.inputs.length;
  const K = m.treesPerIteration;
  let total = 0;
  for (const t of m.trees) total += t.feature.length;
  const feat = new Int32Array(total);
  const thr = new Float64Array(total);
  const ml = new Uint8Array(total);
  const left = new Int32Array(total);
  const right = new Int32Array(total);
  const val = new Float64Array(total);
  const catOff = new Int32Array(total).fill(-1);
  const roots = new Int32Array(m.trees.length);
  const names = m.signature.inputs.map((i) => i.name);
  // Per categorical input: category value → position (numeric categories); text inputs come as positions.
  const numericCats: (Map<number, number> | null)[] = names.map((name, j) => {
    const cats = m.categories[name];
    if (cats === undefined || m.signature.inputs[j]!.type === 'string') return null;
    return new Map((cats as number[]).map((c, i) => [c, i]));
  });
  const nCats = names.map((name) => m.categories[name]?.length ?? 0);
  const isCat = Uint8Array.from(names, (name) => (m.categories[name] !== undefined ? 1 : 0));
  const members: number[] = [];
  let base = 0;
  m.trees.forEach((t, ti) => {
    roots[ti] = base;
    for (let v = 0; v < t.feature.length; v++) {
      const k = base + v;
      const f = t.feature[v]!;
      feat[k] = f;
      thr[k] = t.threshold[v]!;
      ml[k] = t.missingLeft[v]!;
      left[k] = f === -1 ? -1 : base + t.left[v]!;
      right[k] = f === -1 ? -1 : base + t.right[v]!;
      val[k] = t.value[v]!;
      const cats = t.leftCategories?.[String(v)];
      if (cats !== undefined) {
        catOff[k] = members.length;
        const start = members.length;
        for (let c = 0; c < nCats[f]!; c++) members.push(0);
        for (const c of cats) members[start + c] = 1;
      }
    }
    base += t.feature.length;
  });
  const member = Uint8Array.from(members);
  const baseline = Float64Array.from(m.baseline);
  const text = names.map((name, j) => (m.signature.inputs[j]!.type === 'string' ? new Map((m.categories[name] as string[]).map((c, i) => [c, i])) : null));
  const nTrees = m.trees.length;
  const anyCat = isCat.some((c) => c === 1);

  /** The matrix with categorical inputs as category positions (−1 for missing and unknown ones). */
  const prepare = (X: Float64Array, n: number): Float64Array => {
    if (!anyCat) return X;
    const out = Float64Array.from(X);
    for (let j = 0; j < d; j++) {
      if (!isCat[j]) continue;
      const map = numericCats[j];
      const k = nCats[j]!;
      for (let i = 0, o = j; i < n; i++, o += d) {
        const x = out[o]!;
        out[o] = map !== null && map !== undefined ? (map.get(x) ?? -1) : Number.isInteger(x) && x >= 0 && x < k ? x : -1;
      }
    }
    return out;
  };
  /** One tree's value for row i of a prepared matrix. */
  const walk = (t: number, P: Float64Array, o: number): number => {
    let v = roots[t]!;
    let f = feat[v]!;
    while (f >= 0) {
      const x = P[o + f]!;
      const c = catOff[v]!;
      let goLeft: boolean;
      if (c >= 0) goLeft = x < 0 ? ml[v] === 1 : member[c + x] === 1;
      else goLeft = x !== x ? ml[v] === 1 : x <= thr[v]!;
      v = goLeft ? left[v]! : right[v]!;
      f = feat[v]!;
    }
    return val[v]!;
  };
  const start = (n: number): Float64Array => {
    const out = new Float64Array(n * K);
    for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) out[i * K + k] = baseline[k]!;
    return out;
  };

  return {
    d,
    K,
    codec: { text },
    raw(X, n) {
      const P = prepare(X, n);
      const out = start(n);
      for (let i = 0; i < n; i++) {
        const o = i * d;
        for (let t = 0; t < nTrees; t++) out[i * K + (t % K)]! += walk(t, P, o);
      }
      return out;
    },
    staged(X, n, each) {
      const P = prepare(X, n);
      const out = start(n);
      each(out);
      for (let t = 0; t < nTrees; t += K) {
        for (let k = 0; k < K; k++) for (let i = 0; i < n; i++) out[i * K + k]! += walk(t + k, P, i * d);
        each(out);
      }
    },
  };
}

export type GbdtScore = { labels?: ClassLabel[]; probabilities?: Float64Array; values?: Float64Array };

/**
 * A GBDT model's scoring function: raw scores through the link of its loss — the sigmoid for
 * binary (the second class when its probability is strictly above ½), the softmax for multiclass
 * (the first most probable class), the identity for regression.
 */
export function createGbdtScorer(m: GbdtModel): { score: (X: Float64Array, n: number) => GbdtScore; codec: CategoryCodec } {
  const ens = compileEnsemble(m);
  const { d, K } = ens;
  const names = m.signature.inputs.map((i) => i.name);
  const classes = m.target.classes;
  const score = (X: Float64Array, n: number): GbdtScore => {
    if (!Number.isInteger(n) || n < 0) throw invalid(`row count must be a non-negative integer, got ${n}`);
    if (X.length !== n * d) throw invalid(`expected ${n} rows × ${d} inputs (${names.join(', ')}) = ${n * d} values, got ${X.length}`);
    for (let i = 0; i < X.length; i++) {
      const x = X[i]!;
      if (x === Infinity || x === -Infinity) throw new FluxError('INVALID_DATA', `row ${Math.floor(i / d) + 1} has an infinite ${names[i % d]}`, { row: Math.floor(i / d) + 1 });
    }
    const raw = ens.raw(X, n);
    if (classes === undefined) return { values: raw };
    const k = classes.length;
    const probabilities = new Float64Array(n * k);
    const labels = new Array<ClassLabel>(n);
    if (K === 1) {
      for (let i = 0; i < n; i++) {
        const z = raw[i]!;
        const e = Math.exp(-Math.abs(z));
        const p1 = z >= 0 ? 1 / (1 + e) : e / (1 + e);
        probabilities[2 * i] = 1 - p1;
        probabilities[2 * i + 1] = p1;
        labels[i] = p1 > 0.5 ? classes[1]! : classes[0]!;
      }
      return { labels, probabilities };
    }
    for (let i = 0; i < n; i++) {
      const o = i * K;
      let max = -Infinity;
      let arg = 0;
      for (let c = 0; c < K; c++) {
        if (raw[o + c]! > max) {
          max = raw[o + c]!;
          arg = c;
        }
      }
      let sum = 0;
      for (let c = 0; c < K; c++) sum += probabilities[o + c] = Math.exp(raw[o + c]! - max);
      for (let c = 0; c < K; c++) probabilities[o + c]! /= sum;
      labels[i] = classes[arg]!;
    }
    return { labels, probabilities };
  };
  return { score, codec: ens.codec };
}

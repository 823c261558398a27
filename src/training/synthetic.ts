import { invalid } from '../core/index.js';
import { Random } from '../core/index.js';

/**
 * Seeded synthetic tables with a known structure, for the tree trainers' tests and benchmarks
 * (and anyone who wants a problem whose answer is known). Each returns CSV text with a header.
 */

function checkRows(rows: number, max = 10_000_000): void {
  if (!(Number.isInteger(rows) && rows > 0 && rows <= max)) throw invalid(`rows must be an integer from 1 to ${max}, got ${rows}`);
}

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(8).replace(/\.?0+$/, ''));

/**
 * Friedman's regression problem #1 (Friedman 1991): ten uniform inputs x0…x9 of which five
 * matter, y = 10·sin(π·x0·x1) + 20·(x2 − ½)² + 10·x3 + 5·x4 + N(0, noise²).
 */
export function generateFriedmanCsv(rows: number, seed: number, noise = 1): string {
  checkRows(rows);
  const rng = new Random(seed);
  const lines = [['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8', 'x9', 'y'].join(',')];
  const x = new Float64Array(10);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < 10; j++) x[j] = rng.uniform();
    const y = 10 * Math.sin(Math.PI * x[0]! * x[1]!) + 20 * (x[2]! - 0.5) ** 2 + 10 * x[3]! + 5 * x[4]! + rng.normal(0, noise);
    lines.push([...Array.from(x, fmt), fmt(y)].join(','));
  }
  return lines.join('\n') + '\n';
}

/**
 * A four-class problem with the kinds of columns tree models meet: numeric inputs with about 5 %
 * missing cells, a text column `region` (five categories, one of which shifts the classes) and
 * a pure-noise column. Class scores are nonlinear in the inputs; the class is drawn from their
 * softmax, so no model is perfect.
 */
export function generateMulticlassCsv(rows: number, seed: number): string {
  checkRows(rows);
  const rng = new Random(seed);
  const regions = ['north', 'south', 'east', 'west', 'central'];
  const lines = [['a', 'b', 'c', 'd', 'region', 'noise', 'label'].join(',')];
  for (let i = 0; i < rows; i++) {
    const a = rng.normal();
    const b = rng.normal();
    const c = rng.uniform() * 4 - 2;
    const d = rng.normal(0, 2);
    const r = rng.int(regions.length);
    const noise = rng.normal();
    const scores = [
      2 * a + (r === 1 ? 1.5 : 0),
      2 * b * b - 1.5,
      1.5 * Math.sin(2 * c) + (r === 3 ? 1.2 : 0),
      0.8 * d - a * b,
    ];
    let max = -Infinity;
    for (const s of scores) max = Math.max(max, s);
    const p = scores.map((s) => Math.exp(2 * (s - max)));
    const sum = p.reduce((acc, v) => acc + v, 0);
    let u = rng.uniform() * sum;
    let label = 0;
    while (label < 3 && (u -= p[label]!) > 0) label++;
    const cell = (v: number): string => (rng.uniform() < 0.05 ? '' : fmt(v));
    lines.push([cell(a), cell(b), cell(c), cell(d), regions[r]!, fmt(noise), ['alpha', 'beta', 'gamma', 'delta'][label]!].join(','));
  }
  return lines.join('\n') + '\n';
}

/**
 * A binary problem of any size for fit-time benchmarks: `features` standard normal inputs,
 * y = 1 when a nonlinear score of the first eight (products, thresholds, a sine) plus noise is
 * positive. Returned as a row-major matrix and labels, as CSV text would be too large at
 * millions of rows.
 */
export function generateBinaryMatrix(rows: number, features: number, seed: number): { X: Float64Array; y: Float64Array } {
  checkRows(rows, 50_000_000);
  if (!(Number.isInteger(features) && features >= 8 && features <= 1000)) throw invalid(`features must be an integer from 8 to 1000, got ${features}`);
  const rng = new Random(seed);
  const X = new Float64Array(rows * features);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const o = i * features;
    for (let j = 0; j < features; j++) X[o + j] = rng.normal();
    const s =
      X[o]! * X[o + 1]! +
      (X[o + 2]! > 0.5 ? 1 : -0.5) +
      Math.sin(2 * X[o + 3]!) +
      0.5 * X[o + 4]! -
      0.7 * Math.abs(X[o + 5]!) +
      0.3 * X[o + 6]! * X[o + 7]! +
      rng.normal(0, 0.7);
    y[i] = s > 0 ? 1 : 0;
  }
  return { X, y };
}

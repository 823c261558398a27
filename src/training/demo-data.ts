import { invalid } from '../core/index.js';
import { Random } from '../core/index.js';

export const DIABETES_COLUMNS = [
  'PatientID',
  'Pregnancies',
  'PlasmaGlucose',
  'DiastolicBloodPressure',
  'TricepsThickness',
  'SerumInsulin',
  'BMI',
  'DiabetesPedigree',
  'Age',
  'Diabetic',
] as const;

/** Share of diabetic patients. */
const POSITIVE_RATE = 1 / 3;

/**
 * A synthetic diabetes screening data set for the demo and the quickstart, so they need no file.
 * Each patient's class is drawn first (about one in three diabetic), then every measurement from
 * a class-conditional distribution with clinically plausible shape and range: counts and ages are
 * integers skewed to the right, insulin and the pedigree function are log-normal, glucose,
 * pressure, skin fold and BMI roughly normal and clipped to realistic bounds. The classes overlap
 * as in real screening data: a logistic regression reaches an F1 of about 0.7 on it, not 1.
 * The same rows and seed always give the same text.
 */
export function generateDiabetesCsv(rows = 10000, seed = 42): string {
  if (!(Number.isInteger(rows) && rows > 0 && rows <= 8_000_000)) {
    throw invalid(`rows must be an integer between 1 and 8000000, got ${rows}`);
  }
  const rng = new Random(seed);
  const ids = new Set<number>();
  const out: string[] = [DIABETES_COLUMNS.join(',')];
  for (let r = 0; r < rows; r++) {
    let id: number;
    do id = 1_000_000 + rng.int(9_000_000);
    while (ids.has(id));
    ids.add(id);
    const diabetic = rng.uniform() < POSITIVE_RATE;
    out.push(patient(rng, id, diabetic));
  }
  return out.join('\n') + '\n';
}

function patient(rng: Random, id: number, diabetic: boolean): string {
  const clip = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
  const int = (v: number, lo: number, hi: number): number => Math.round(clip(v, lo, hi));

  // Age: 21 and up, right-skewed; older on average in the diabetic group.
  const age = diabetic ? int(21 + rng.exponential(8) + rng.exponential(8), 21, 77) : int(21 + rng.exponential(6), 21, 77);
  // Pregnancies: many zeros, more with age and in the diabetic group.
  const zeroPregnancies = rng.uniform() < (diabetic ? 0.08 : 0.3);
  const pregnancyMean = (diabetic ? 4.4 : 2.2) + (age - 21) * 0.04;
  const pregnancies = zeroPregnancies ? 0 : int(rng.exponential(pregnancyMean) + 0.5, 1, 14);
  const glucose = int(rng.normal(diabetic ? 118 : 103, diabetic ? 30 : 31), 44, 192);
  const pressure = int(rng.normal(diabetic ? 74 : 70, diabetic ? 15 : 17.5), 24, 117);
  const triceps = int(rng.normal(diabetic ? 32 : 27, 14.5), 7, 92);
  const insulin = int(Math.exp(rng.normal(diabetic ? 4.8 : 4.3, 0.8)), 14, 796);
  // BMI correlates with skin fold thickness; diabetic patients are heavier on average.
  const bmi = clip(rng.normal(diabetic ? 33.5 : 29.5, 8.5) + (triceps - 29) * 0.12, 18.2, 56.1);
  const pedigree = clip(Math.exp(rng.normal(diabetic ? -1.25 : -1.6, 0.8)), 0.078, 2.3);
  return [
    id,
    pregnancies,
    glucose,
    pressure,
    triceps,
    insulin,
    bmi.toFixed(8),
    pedigree.toFixed(9),
    age,
    diabetic ? 1 : 0,
  ].join(',');
}

import { estimatePerformance, fitCbpe, realisedPerformance, type CbpeFit, type PerformanceFigures } from '../cbpe.js';
import { columnDrift, datasetDrift, type ColumnDriftResult } from '../drift-stats.js';
import { windowColumns, type InferenceRecord, type InferenceService } from '../inferences/index.js';
import type { ModelProfile } from '../profiles/index.js';
import type { ProfileLookup } from './profile-lookup.js';
import type { Monitor, MonitorResult } from './types.js';

export type CheckOutcome = Omit<MonitorResult, 'seq'>;

/**
 * One check of a monitor: reads the window of logged requests (answered 2xx), finds the
 * reference (the pinned version, else the one that answered most rows), compares every input
 * column and the predictions with its profile, judges dataset drift by the share of drifted
 * columns, and for a binary classifier estimates accuracy, F1 and ROC AUC by CBPE, beside the
 * realised figures of the rows that have labels.
 */
export class MonitorCheck {
  private readonly fits = new Map<string, CbpeFit>();

  constructor(
    private readonly inferences: InferenceService,
    private readonly profiles: ProfileLookup,
  ) {}

  async run(m: Monitor, now: number): Promise<CheckOutcome> {
    const windowStart = now - m.windowMs;
    const records = await this.inferences.window(m.endpoint, m.deployment ?? undefined, windowStart, now + 1, m.maxRows);
    const live = windowColumns(records);
    const base: CheckOutcome = {
      monitor: m.name,
      endpoint: m.endpoint,
      time: now,
      windowStart,
      windowEnd: now,
      rows: live.rows,
      status: 'ok',
      message: null,
      reference: null,
      versions: live.versions,
      columns: {},
      dataset: null,
      predictions: {},
      predictionDrift: false,
      performance: null,
    };
    if (live.rows < m.minRows) return { ...base, status: 'insufficient_data', message: `the window holds ${live.rows} logged rows; the monitor needs at least ${m.minRows}` };
    const ref = this.referenceOf(m, records, live.versions);
    if (ref === undefined) return { ...base, status: 'no_reference', message: 'no model version answered in the window' };
    const found = await this.profiles.get(ref.model, ref.version, now);
    if (found === undefined) {
      return {
        ...base,
        status: 'no_reference',
        message: `${ref.model}/${ref.version} has no reference profile: train it with FluxOps, or store one with fluxops monitors profile ${ref.model}/${ref.version} --data <csv>`,
      };
    }
    const profile = found.profile;
    const columns: Record<string, ColumnDriftResult> = {};
    const skipped: string[] = [];
    for (const [name, colProfile] of Object.entries(profile.features)) {
      if (m.ignore.includes(name)) continue;
      const values = live.inputs[name];
      if (values === undefined) {
        skipped.push(`${name} (not in the requests)`);
        continue;
      }
      try {
        columns[name] = columnDrift(colProfile, values as ArrayLike<number> & ArrayLike<string>, m.columns[name] ?? {});
      } catch (e) {
        skipped.push(`${name} (${(e as Error).message})`);
      }
    }
    const dataset = Object.keys(columns).length === 0 ? null : datasetDrift(columns, m.driftShare);
    const predictions: CheckOutcome['predictions'] = {};
    if (profile.predictions.class !== undefined && live.predictions.length > 0) predictions.class = safeDrift(() => columnDrift(profile.predictions.class!, live.predictions.map(String)));
    if (profile.predictions.score !== undefined && live.scores.length > 0) predictions.score = safeDrift(() => columnDrift(profile.predictions.score!, live.scores));
    const predictionDrift = predictions.class?.drifted === true || predictions.score?.drifted === true;
    const performance = await this.performance(m, ref, profile, records, live.scores);
    return {
      ...base,
      status: dataset?.drifted === true || predictionDrift ? 'drift' : 'ok',
      message: skipped.length > 0 ? `columns not compared: ${skipped.join('; ')}` : null,
      reference: { model: ref.model, version: ref.version, source: found.source },
      columns,
      dataset,
      predictions,
      predictionDrift,
      performance,
    };
  }

  private referenceOf(m: Monitor, records: readonly InferenceRecord[], versions: Record<string, number>): { model: string; version: string } | undefined {
    if (m.reference !== null) {
      const i = m.reference.lastIndexOf('/');
      return { model: m.reference.slice(0, i), version: m.reference.slice(i + 1) };
    }
    const top = Object.entries(versions).sort((a, b) => b[1] - a[1])[0]?.[0];
    const model = records.find((r) => r.version === top)?.model;
    return top === undefined || model === null || model === undefined ? undefined : { model, version: top };
  }

  private async performance(m: Monitor, ref: { model: string; version: string }, profile: ModelProfile, records: readonly InferenceRecord[], scores: number[]): Promise<MonitorResult['performance']> {
    const perf = profile.performance;
    if (perf === undefined || scores.length === 0) return null;
    const key = `${ref.model}/${ref.version}/${profile.createdAt}`;
    let fit = this.fits.get(key);
    if (fit === undefined) {
      fit = fitCbpe({ scores: perf.scores, labels: perf.labels, threshold: perf.threshold });
      this.fits.set(key, fit);
    }
    const valid = scores.filter((s) => s >= 0 && s <= 1);
    const estimated = valid.length === 0 ? null : estimatePerformance(valid, { threshold: fit.threshold, calibrator: fit.calibrator });
    return { estimated, calibrated: fit.calibrator !== null, realised: await this.realised(m, records, perf.classes, fit.threshold) };
  }

  /** Realised figures over the window's rows that have labels (of the two classes). */
  private async realised(m: Monitor, records: readonly InferenceRecord[], classes: [number | string, number | string], threshold: number): Promise<PerformanceFigures | null> {
    const labels = await this.inferences.labelsOf(m.endpoint, records.map((r) => r.requestId));
    if (labels.size === 0) return null;
    const s: number[] = [];
    const y: number[] = [];
    const positive = String(classes[1]);
    const negative = String(classes[0]);
    for (const r of records) {
      const byRow = labels.get(r.requestId);
      const probs = r.outputs?.probabilities;
      if (byRow === undefined || probs === undefined) continue;
      for (const [row, label] of byRow) {
        const p = probs[row]?.[1];
        const l = String(label);
        if (p === undefined || (l !== positive && l !== negative)) continue;
        s.push(p);
        y.push(l === positive ? 1 : 0);
      }
    }
    return s.length === 0 ? null : realisedPerformance(s, y, threshold);
  }
}

function safeDrift(f: () => ColumnDriftResult): ColumnDriftResult | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

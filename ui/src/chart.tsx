import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  steps: number[];
  values: number[];
}

const COLORS = ['#0b57d0', '#b3261e', '#146c2e', '#7d5260', '#8a5a00', '#006a6a'];

/** Exponential moving average with weight `alpha` on the past (0 = none), as TensorBoard and MLflow smooth curves. */
export function smooth(values: number[], alpha: number): number[] {
  if (alpha <= 0) return values;
  const out: number[] = [];
  let last = Number.NaN;
  for (const v of values) {
    last = Number.isNaN(last) ? v : alpha * last + (1 - alpha) * v;
    out.push(last);
  }
  return out;
}

/**
 * Metric curves by step (uPlot on a canvas; this module is loaded only by pages that chart). The
 * series share one x axis: the union of their steps, with gaps where a metric has no value.
 */
export function MetricChart({ series, log, smoothing, label }: { series: Series[]; log: boolean; smoothing: number; label: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const host = el.current;
    if (host === null) return;
    const steps = [...new Set(series.flatMap((s) => s.steps))].sort((a, b) => a - b);
    const at = new Map(steps.map((s, i) => [s, i]));
    const columns = series.map((s) => {
      const col: Array<number | null> = new Array<number | null>(steps.length).fill(null);
      const ys = smooth(s.values, smoothing);
      s.steps.forEach((st, i) => {
        const y = ys[i]!;
        col[at.get(st)!] = log && y <= 0 ? null : y;
      });
      return col;
    });
    const plot = new uPlot(
      {
        width: Math.max(320, host.clientWidth),
        height: 300,
        scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
        axes: [{ label: 'step' }, {}],
        series: [{ label: 'step' }, ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true }))],
      },
      [steps, ...columns] as uPlot.AlignedData,
      host,
    );
    const resize = (): void => plot.setSize({ width: Math.max(320, host.clientWidth), height: 300 });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [series, log, smoothing]);
  return <div class="chart" ref={el} role="img" aria-label={label} />;
}

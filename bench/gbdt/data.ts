/**
 * What bench/gbdt.ts hands its children: a data set on disk (a CSV, or a float64 matrix and its
 * targets as .npy files) and the row indices of its train/test split, and what each child prints
 * back (one JSON line, the shape bench/gbdt/reference.py prints).
 */
import fs from 'node:fs';

export type GbdtBenchTask = 'binary' | 'multiclass' | 'regression';

export type DataSource =
  | { kind: 'csv'; csv: string; target: string; exclude: string[] }
  /** x: n×d float64 (NaN = missing), y: n float64 targets (class labels or values). */
  | { kind: 'npy'; x: string; y: string };

export interface FitChildSpec {
  name: string;
  task: GbdtBenchTask;
  source: DataSource;
  /** A JSON file {"train": [...], "test": [...]} of 0-based row indices. */
  split: string;
  /** Fits to time (fit_seconds is their median). */
  repeats: number;
  /** Histogram threads; 0 = the trainer's own choice (trainer.ts). */
  threads: number;
}

/** One library's figures on one data set. */
export interface LibResult {
  lib: string;
  version: string;
  threads: number | null;
  metrics: Record<string, number>;
  /** Median of fit_seconds_all. */
  fit_seconds: number;
  fit_seconds_all: number[];
  train_rows: number;
  test_rows: number;
  predict_rows_per_second: number;
  iterations: number | null;
  /** True when the fit held out a validation fraction and could stop early. */
  early_stopping: boolean;
  peak_rss_mb: number;
  /** CPU seconds of the child (all its threads) per second of fitting: how many cores its fits kept busy. */
  fit_cpu_cores: number | null;
  /** The rest of the machine's busy CPU (other processes) per second of fitting; high = disturbed figures. Linux only. */
  other_cpu_cores: number | null;
  /** FluxOps only: rows held out for early stopping (0 when it is off). */
  validation_rows?: number;
}

/** Writes a float64 array as a NumPy .npy file (format 1.0, C order). */
export function writeNpy(file: string, data: Float64Array, shape: number[]): void {
  const dict = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = Buffer.alloc(total, 0x20);
  header.write('\x93NUMPY', 0, 'latin1');
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(total - 10, 8);
  header.write(dict, 10, 'latin1');
  header[total - 1] = 0x0a;
  const fd = fs.openSync(file, 'w');
  try {
    writeAll(fd, header);
    writeAll(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } finally {
    fs.closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length; ) off += fs.writeSync(fd, bytes, off, Math.min(bytes.length - off, 1 << 30));
}

/** Reads a little-endian float64 C-order .npy file straight into a Float64Array. */
export function readNpy(file: string): { data: Float64Array; shape: number[] } {
  const fd = fs.openSync(file, 'r');
  try {
    const pre = Buffer.alloc(12);
    fs.readSync(fd, pre, 0, 12, 0);
    if (pre.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file} is not a .npy file`);
    const major = pre[6]!;
    const headerLen = major === 1 ? pre.readUInt16LE(8) : pre.readUInt32LE(8);
    const start = (major === 1 ? 10 : 12) + headerLen;
    const header = Buffer.alloc(headerLen);
    fs.readSync(fd, header, 0, headerLen, major === 1 ? 10 : 12);
    const text = header.toString('latin1');
    if (!/'descr':\s*'<f8'/.test(text) || /'fortran_order':\s*True/.test(text)) throw new Error(`${file}: expected little-endian float64 in C order, got ${text.trim()}`);
    const shape = (/'shape':\s*\(([^)]*)\)/.exec(text)?.[1] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map(Number);
    const count = shape.reduce((a, b) => a * b, 1);
    const data = new Float64Array(count);
    const bytes = new Uint8Array(data.buffer);
    for (let off = 0; off < bytes.length; ) {
      const got = fs.readSync(fd, bytes, off, Math.min(bytes.length - off, 1 << 30), start + off);
      if (got === 0) throw new Error(`${file}: truncated (${off} of ${bytes.length} data bytes)`);
      off += got;
    }
    return { data, shape };
  } finally {
    fs.closeSync(fd);
  }
}

/** Busy CPU seconds of the whole machine since boot (/proc/stat, all but idle and iowait), or null off Linux. */
export function machineBusySeconds(): number | null {
  try {
    const f = fs.readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user); USER_HZ = 100.
    return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0)) / 100;
  } catch {
    return null;
  }
}

/** Measures a stretch of work: its wall seconds, this process's CPU cores and the other processes' CPU cores over it. */
export function cpuMeter(): () => { seconds: number; ownCores: number; otherCores: number | null } {
  const wall0 = performance.now();
  const own0 = process.cpuUsage();
  const busy0 = machineBusySeconds();
  return () => {
    const seconds = (performance.now() - wall0) / 1000;
    const own = process.cpuUsage(own0);
    const ownSeconds = (own.user + own.system) / 1e6;
    const busy1 = machineBusySeconds();
    const other = busy0 === null || busy1 === null ? null : Math.max(0, busy1 - busy0 - ownSeconds) / seconds;
    return { seconds, ownCores: ownSeconds / seconds, otherCores: other };
  };
}

export function writeSplit(file: string, split: { train: Uint32Array; test: Uint32Array }): void {
  fs.writeFileSync(file, JSON.stringify({ train: Array.from(split.train), test: Array.from(split.test) }));
}

export function readSplit(file: string): { train: Uint32Array; test: Uint32Array } {
  const s = JSON.parse(fs.readFileSync(file, 'utf8')) as { train: number[]; test: number[] };
  return { train: Uint32Array.from(s.train), test: Uint32Array.from(s.test) };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

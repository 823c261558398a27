import { KERNELS_WASM_BASE64 } from './kernels-wasm.js';

/** The exports of kernels.wat: byte addresses in the arena's memory, and counts. */
export interface KernelExports {
  histogram(hist: number, words: number, wordsPerRow: number, block: number, idx: number, start: number, end: number, grad: number, hess: number): void;
  /** The histogram without hessian sums (they are set from the counts, for a constant hessian). */
  histogram_counts(hist: number, words: number, wordsPerRow: number, block: number, idx: number, start: number, end: number, grad: number): void;
  /** grower.ts partitionRange: returns how many rows went left. */
  partition(columns: number, n: number, feature: number, idx: number, scratch: number, table: number, start: number, end: number): number;
}

/** Most bytes an arena takes: WebAssembly's 32-bit addresses reach 4 GiB; a larger fit uses the JavaScript kernels. */
const MAX_ARENA_BYTES = 2 ** 32 - 2 ** 16;
const PAGE = 65_536;

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernels (compiled once per thread), or null where this runtime cannot compile them. */
export function kernelsModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/**
 * One shared WebAssembly memory holding the arrays the histogram kernels read and write (the row
 * bins, gradients, hessians, row indices and histograms), handed out as typed-array views by a
 * bump allocator. It is shared memory, so worker threads instantiate the same kernels over the
 * same bytes (parallel.ts). Sized once for a fit; a request past its end gets null and the caller
 * falls back to an ordinary array and the JavaScript kernel.
 */
export class KernelArena {
  readonly buffer: SharedArrayBuffer;
  private used = 0;

  private constructor(
    readonly memory: WebAssembly.Memory,
    readonly module: WebAssembly.Module,
    readonly kernels: KernelExports,
  ) {
    this.buffer = memory.buffer as SharedArrayBuffer;
  }

  /** An arena of at least `bytes`, or null when the kernels are unavailable or it would be too big. */
  static create(bytes: number): KernelArena | null {
    const module = kernelsModule();
    if (module === null || !(bytes > 0) || bytes > MAX_ARENA_BYTES) return null;
    const pages = Math.ceil(bytes / PAGE);
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    } catch {
      return null;
    }
    return new KernelArena(memory, module, instantiateKernels(module, memory));
  }

  /** Whether a view lives in this arena (the kernels can address it). */
  holds(view: ArrayBufferView): boolean {
    return view.buffer === this.buffer;
  }

  f64(length: number): Float64Array | null {
    const at = this.take(length * 8);
    return at === null ? null : new Float64Array(this.buffer, at, length);
  }

  u32(length: number): Uint32Array | null {
    const at = this.take(length * 4);
    return at === null ? null : new Uint32Array(this.buffer, at, length);
  }

  u8(length: number): Uint8Array | null {
    const at = this.take(length);
    return at === null ? null : new Uint8Array(this.buffer, at, length);
  }

  /** `bytes` more from the arena, 8-aligned; null when they do not fit. */
  private take(bytes: number): number | null {
    const at = this.used;
    if (at + bytes > this.buffer.byteLength) return null;
    this.used = at + Math.ceil(bytes / 8) * 8;
    return at;
  }
}

/** The kernels over a memory, on this thread. */
export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
}

/**
 * What the benchmarks measure besides time: peak tensor bytes, peak resident
 * memory, process CPU time and the machine's load, plus order statistics.
 *
 * @module
 */
import process from "node:process";
import { tf } from "../src/backend/tf.ts";

interface EngineState {
  numBytes: number;
}

/**
 * Peak of `tf.memory().numBytes` between {@link TensorPeak.start} and
 * {@link TensorPeak.stop}, relative to the bytes held at the start.
 *
 * TensorFlow.js records no peak outside `tf.profile`, which would time every
 * kernel; instead the engine's byte counter is observed through an accessor
 * while measuring, which costs nothing measurable.
 */
export class TensorPeak {
  #state = (tf.engine() as unknown as { state: EngineState }).state;
  #start = 0;
  #current = 0;
  #peak = 0;
  #active = false;

  /** Begin observing. */
  start(): void {
    if (this.#active) return;
    this.#start = this.#current = this.#peak = this.#state.numBytes;
    Object.defineProperty(this.#state, "numBytes", {
      configurable: true,
      enumerable: true,
      get: () => this.#current,
      set: (v: number) => {
        this.#current = v;
        if (v > this.#peak) this.#peak = v;
      },
    });
    this.#active = true;
  }

  /** Stop observing and return the peak in bytes above the start. */
  stop(): number {
    if (this.#active) {
      Object.defineProperty(this.#state, "numBytes", {
        configurable: true,
        enumerable: true,
        writable: true,
        value: this.#current,
      });
      this.#active = false;
    }
    return this.#peak - this.#start;
  }
}

/** Run `fn` and report its peak tensor bytes (see {@link TensorPeak}). */
export function withTensorPeak<T>(fn: () => T): { value: T; peak: number } {
  const meter = new TensorPeak();
  meter.start();
  try {
    const value = fn();
    return { value, peak: meter.stop() };
  } finally {
    meter.stop();
  }
}

/**
 * Peak resident set of this process, sampled (`Deno.memoryUsage().rss`) at
 * construction and whenever {@link RssPeak.sample} is called: after every
 * iteration, so it can miss a short peak inside one. Deno reads /proc only
 * with every permission, so the kernel's own high-water mark is not used.
 * The wasm heap never shrinks, so on wasm this includes earlier cases' peaks.
 */
export class RssPeak {
  #peak = Deno.memoryUsage().rss;

  /** Record the current RSS. */
  sample(): void {
    this.#peak = Math.max(this.#peak, Deno.memoryUsage().rss);
  }

  /** Largest RSS seen, bytes. */
  peak(): number {
    this.sample();
    return this.#peak;
  }
}

/** User + system CPU seconds of this process so far. */
export function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** The 1-minute load average, or NaN where unknown. */
export function loadAverage(): number {
  try {
    return Deno.loadavg()[0] ?? NaN;
  } catch {
    return NaN;
  }
}

function cpuModel(): string {
  // /proc needs every permission in Deno; a child process does not.
  try {
    const out = new Deno.Command("cat", { args: ["/proc/cpuinfo"] })
      .outputSync();
    const m = /model name\s*:\s*(.+)/.exec(
      new TextDecoder().decode(out.stdout),
    );
    return m ? m[1]!.trim() : "unknown";
  } catch {
    return "unknown";
  }
}

/** The machine, as recorded with every run. */
export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  os: string;
  deno: string;
  v8: string;
}

/** Describe this machine. */
export function machineInfo(): MachineInfo {
  return {
    cpuModel: cpuModel(),
    cpus: navigator.hardwareConcurrency,
    memoryGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30 * 10) / 10,
    os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
  };
}

/** Order statistics of a sample, in the sample's unit. */
export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  p25: number;
  p75: number;
}

/** Median, quartiles (linear interpolation) and range of `values`. */
export function summarize(values: readonly number[]): Summary {
  const v = [...values].sort((a, b) => a - b);
  const q = (p: number) => {
    if (v.length === 0) return NaN;
    const i = (v.length - 1) * p;
    const lo = Math.floor(i);
    const hi = Math.ceil(i);
    return v[lo]! + (v[hi]! - v[lo]!) * (i - lo);
  };
  return {
    n: v.length,
    median: q(0.5),
    min: v[0] ?? NaN,
    max: v[v.length - 1] ?? NaN,
    p25: q(0.25),
    p75: q(0.75),
  };
}

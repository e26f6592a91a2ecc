/**
 * A one-line progress bar on stderr for long loops (expert epochs, distillation
 * iterations, downloads). When stderr is not a terminal it prints a plain line
 * at most every few seconds instead, so CI logs stay readable.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Options for {@link Progress}. */
export interface ProgressOptions {
  /** Label printed before the bar. */
  label: string;
  /** Total number of units; 0 when unknown. */
  total: number;
  /** Unit name, e.g. "it", "epoch", "B". @default "it" */
  unit?: string;
  /** Minimum seconds between non-terminal log lines. @default 10 */
  logEverySeconds?: number;
  /** Silence all output (tests). @default false */
  quiet?: boolean;
}

/** Format seconds as h:mm:ss or m:ss. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(sec).padStart(2, "0")}`;
}

/** A progress bar with rate and ETA. */
export class Progress {
  readonly #opts: Required<ProgressOptions>;
  readonly #start = performance.now();
  #done = 0;
  #lastLog = 0;
  #tty: boolean;

  constructor(options: ProgressOptions) {
    this.#opts = { unit: "it", logEverySeconds: 10, quiet: false, ...options };
    this.#tty = !this.#opts.quiet && Deno.stderr.isTerminal();
  }

  /** Advance by `n` units and redraw, with optional extra status text. */
  tick(n = 1, status = ""): void {
    this.#done += n;
    this.#draw(status, false);
  }

  /** Set the absolute position and redraw. */
  update(done: number, status = ""): void {
    this.#done = done;
    this.#draw(status, false);
  }

  /** Final line. */
  finish(status = ""): void {
    this.#draw(status, true);
  }

  /** Seconds since start. */
  get elapsed(): number {
    return (performance.now() - this.#start) / 1000;
  }

  #draw(status: string, final: boolean): void {
    if (this.#opts.quiet) return;
    const { label, total, unit } = this.#opts;
    const elapsed = this.elapsed;
    const rate = this.#done / Math.max(elapsed, 1e-9);
    const eta = total > 0 && rate > 0 ? (total - this.#done) / rate : NaN;
    const frac = total > 0 ? Math.min(1, this.#done / total) : 0;
    const width = 20;
    const bar = total > 0
      ? "[" + "#".repeat(Math.round(frac * width)).padEnd(width, ".") + "] "
      : "";
    const count = total > 0 ? `${this.#done}/${total}` : `${this.#done}`;
    const line = `${label} ${bar}${count} ${unit} ${
      formatDuration(elapsed)
    } elapsed, ETA ${formatDuration(eta)}${status ? " | " + status : ""}`;
    if (this.#tty) {
      Deno.stderr.writeSync(
        encoder.encode(`\r\x1b[2K${line}${final ? "\n" : ""}`),
      );
    } else if (final || elapsed - this.#lastLog >= this.#opts.logEverySeconds) {
      this.#lastLog = elapsed;
      Deno.stderr.writeSync(encoder.encode(line + "\n"));
    }
  }
}

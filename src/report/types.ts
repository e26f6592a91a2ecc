/**
 * The data a reproduction produces, from which every CSV, Markdown report and
 * chart is written. Kept in one place so the writers, the parser used by tests
 * and `deno task diff` agree on it.
 *
 * @module
 */

/** How far a table is scaled down. */
export type Scale = "paper" | "quick" | "smoke";

/** What produced the evaluated image set. */
export type RowMethod = "mtt" | "mct" | "random" | "full";

/** One evaluation run: one freshly initialised network trained and tested. */
export interface RunRecord {
  /** Table name, e.g. `cifar10`. */
  table: string;
  scale: Scale;
  dataset: string;
  method: RowMethod;
  /** Images per class (0 for the whole training set). */
  ipc: number;
  /** Extra cell coordinate for ablations (e.g. `experts=10`); "" otherwise. */
  variant: string;
  /** 0-based index of the run within its cell. */
  run: number;
  /** Seed of the evaluation network and its training order. */
  evalSeed: number;
  /** Seed of the distillation that made the images; null for baselines. */
  distillSeed: number | null;
  /** Distillation iteration whose images were evaluated; null for baselines. */
  iteration: number | null;
  /** Learning rate used to train the evaluation network (the learned α). */
  lr: number;
  /** Every other setting that influenced this number, flattened. */
  settings: Record<string, string | number | boolean>;
  /** Tensor backend name. */
  backend: string;
  /** Final test accuracy, a fraction in [0, 1]. */
  accuracy: number;
  /** Wall seconds of this evaluation run. */
  seconds: number;
}

/** A published value shown next to a measured one. */
export interface PaperValue {
  /** Accuracy in percent, or null when the source has not been transcribed. */
  mean: number | null;
  std: number | null;
  /** Where the value comes from (table and paper), or why it is missing. */
  source: string;
}

/** One aggregated cell. */
export interface CellSummary {
  dataset: string;
  method: RowMethod;
  ipc: number;
  variant: string;
  /** Number of evaluation runs. */
  n: number;
  /** Mean of final accuracies, percent. */
  mean: number;
  /** Sample standard deviation (n − 1), percent; 0 when n = 1. */
  std: number;
  /** Two-sided 95% Student-t confidence interval of the mean, percent. */
  ci95: [number, number];
  /**
   * The reference's "best over checkpoints" figure: the highest mean over the
   * evaluated distillation iterations. Selected on test data — labelled so.
   */
  bestOverCheckpoints: { iteration: number; mean: number } | null;
  paper: PaperValue | null;
}

/** One point of a convergence curve. */
export interface ConvergencePoint {
  dataset: string;
  method: RowMethod;
  ipc: number;
  variant: string;
  iteration: number;
  /** Mean accuracy in percent over `n` runs. */
  mean: number;
  std: number;
  n: number;
}

/** One row of the storage comparison. */
export interface StorageRow {
  dataset: string;
  /** Measured on disk, from the reference formula, or published. */
  source: "measured" | "formula" | "published";
  /** Parameters per expert. */
  numParams: number;
  experts: number;
  mttBytes: number;
  mctBytes: number;
  /** mttBytes / mctBytes. */
  ratio: number;
  /** Free text: waypoints, what is counted. */
  note: string;
}

/** Everything needed to trace a number back to how it was made. */
export interface Provenance {
  /** `git rev-parse HEAD`, or "unknown" outside a checkout. */
  commit: string;
  /** Uncommitted changes were present. */
  dirty: boolean;
  /** The command line that produced the results. */
  command: string;
  deno: string;
  tfjs: string;
  /** Backend name and package. */
  backend: string;
  cpu: string;
  gpu: string | null;
  os: string;
  /** Data sets used, with their content hashes. */
  datasets: { name: string; split: string; sha256: string }[];
  /** Trajectory stores used, with their content hashes. */
  trajectories: { dir: string; kind: string; hash: string; experts: number }[];
  /** The fully resolved configuration of every stage. */
  config: unknown;
  /** Wall seconds per stage, e.g. { experts: 812.4, distill: 3301.0 }. */
  stageSeconds: Record<string, number>;
  started: string;
  finished: string;
}

/** The complete result of one `deno task reproduce <table>`. */
export interface TableResult {
  table: string;
  scale: Scale;
  /** Title in the paper's words, e.g. "CIFAR-10, ConvNet". */
  title: string;
  /** Plain-language summary of what ran at this scale. */
  summary: string;
  /** Every way this run differs from the paper's protocol. */
  deviations: string[];
  runs: RunRecord[];
  cells: CellSummary[];
  convergence: ConvergencePoint[];
  storage: StorageRow[];
  provenance: Provenance;
}

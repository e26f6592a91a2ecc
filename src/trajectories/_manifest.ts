/**
 * Shared machinery of the two trajectory stores (SGD and convexified): the
 * manifest header, field validation, and how an expert is committed.
 *
 * Commit protocol. Each expert has a data file and a small JSON record beside
 * it (`expert_000.json`). The record is written, atomically, only after the
 * data file has been renamed into place, so its presence is what makes an
 * expert count. `manifest.json` lists the header and every record, and is
 * rebuilt from the records after each commit.
 *
 * Why records instead of a lock around one manifest: several processes train
 * experts into the same folder and finish in any order. A lock file outlives a
 * killed process and needs stale-lock guessing (pids do not cross machines on a
 * shared file system). Records need no lock, because one expert's files are
 * written by one process only; the one shared file, the manifest, is derived
 * data. When two processes rebuild it at the same moment and the older listing
 * wins the rename, the next rebuild or any {@link readRecords} call sees every
 * record anyway, and each writer re-lists after renaming until what it wrote
 * is current, so the last writer to finish always leaves a complete manifest.
 *
 * @module
 */
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import {
  type ConvNetSpec,
  type ParamLayout,
  paramLayout,
} from "../model/layout.ts";
import { CorruptFileError, InputError } from "../util/errors.ts";
import { writeFileAtomic, writeJsonAtomic } from "../util/fs.ts";

/** The manifest format this code reads and writes. */
export const FORMAT_VERSION = 1;
/** File name of a store's manifest. */
export const MANIFEST_NAME = "manifest.json";

/** Which kind of store a folder holds. */
export type StoreKind = "sgd" | "convexified";

/** The data set the experts were trained on. */
export interface DatasetInfo {
  /** Name, e.g. `CIFAR10`. */
  name: string;
  /** Hex SHA-256 identifying the exact training data. */
  sha256: string;
}

/** ZCA whitening applied to the data (null in the header when off). */
export interface ZcaInfo {
  /** The eps added to the singular values (0.1 in the reference). */
  regularization: number;
  /** Hex SHA-256 of the transform matrix. */
  transformSha256: string;
}

/** Expert training hyper-parameters (reference.md §3). */
export interface ExpertHyperParams {
  /** SGD learning rate (`lr_teacher`). */
  lr: number;
  /** Minibatch size. */
  batchSize: number;
  /** Epochs trained; a full trajectory has epochs + 1 snapshots. */
  epochs: number;
  /** SGD momentum. */
  momentum: number;
  /** L2 weight decay. */
  weightDecay: number;
  /** Augmentation, e.g. the DSA strategy string, or `none`. */
  augmentation: string;
}

/** One parameter tensor as recorded in a manifest (native layout). */
export interface ManifestTensor {
  name: string;
  role: string;
  /** Native shape: HWIO convs, `[features(H,W,C), classes]` classifier. */
  shape: number[];
  offset: number;
  size: number;
}

/** The model part of a manifest. */
export interface ModelInfo {
  spec: ConvNetSpec;
  numParams: number;
  /** Element order inside tensors; `hwio` is the suite's native order. */
  paramLayout: "hwio";
  tensors: ManifestTensor[];
}

/** What every store's manifest holds besides its expert list. */
export interface StoreHeader {
  dataset: DatasetInfo;
  model: ModelInfo;
  zca: ZcaInfo | null;
  expert: ExpertHyperParams;
}

/** The caller's description of a new store; the layout is derived. */
export interface StoreHeaderInput {
  dataset: DatasetInfo;
  /** The architecture; its {@link ParamLayout} fixes the flat vectors. */
  model: ConvNetSpec;
  zca: ZcaInfo | null;
  expert: ExpertHyperParams;
}

/** Build the full header from the caller's description. */
export function buildHeader(
  input: StoreHeaderInput,
  file: string,
): StoreHeader {
  const header: StoreHeader = {
    dataset: { name: input.dataset.name, sha256: input.dataset.sha256 },
    model: modelInfo(input.model),
    zca: input.zca === null ? null : {
      regularization: input.zca.regularization,
      transformSha256: input.zca.transformSha256,
    },
    expert: {
      lr: input.expert.lr,
      batchSize: input.expert.batchSize,
      epochs: input.expert.epochs,
      momentum: input.expert.momentum,
      weightDecay: input.expert.weightDecay,
      augmentation: input.expert.augmentation,
    },
  };
  // Run the same checks a reader would, so a bad header fails at creation.
  return validateHeader(JSON.parse(JSON.stringify(header)), file);
}

function modelInfo(spec: ConvNetSpec): ModelInfo {
  const layout = paramLayout(spec);
  return {
    spec: {
      inChannels: spec.inChannels,
      height: spec.height,
      width: spec.width,
      numClasses: spec.numClasses,
      netWidth: spec.netWidth,
      netDepth: spec.netDepth,
    },
    numParams: layout.size,
    paramLayout: "hwio",
    tensors: layout.tensors.map((t) => ({
      name: t.name,
      role: t.role,
      shape: [...t.shape],
      offset: t.offset,
      size: t.size,
    })),
  };
}

/** Zero-padded stem of an expert's files: `expert_007`. */
export function expertStem(index: number): string {
  return `expert_${String(index).padStart(3, "0")}`;
}

/** Path of an expert's commit record. */
export function recordPath(dir: string, index: number): string {
  return path.join(dir, `${expertStem(index)}.json`);
}

const RECORD_RE = /^expert_(\d{3,})\.json$/;

// ---------------------------------------------------------------------------
// Field validation. Each check names the file and the dotted field path.

type Obj = Record<string, unknown>;

/** Validation context: the file being read. */
export class Fields {
  constructor(readonly file: string) {}

  /** Throw an InputError naming the field. */
  fail(field: string, problem: string): never {
    throw new InputError(this.file, `field "${field}" ${problem}`);
  }

  /** The value must be a JSON object. */
  object(v: unknown, field: string): Obj {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      this.fail(field, `must be an object, got ${show(v)}`);
    }
    return v as Obj;
  }

  /** The value must be an array. */
  array(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) this.fail(field, `must be an array, got ${show(v)}`);
    return v;
  }

  /** The value must be a non-empty string. */
  string(v: unknown, field: string): string {
    if (typeof v !== "string" || v.length === 0) {
      this.fail(field, `must be a non-empty string, got ${show(v)}`);
    }
    return v;
  }

  /** The value must be a lowercase hex SHA-256. */
  sha256(v: unknown, field: string): string {
    if (typeof v !== "string" || !/^[0-9a-f]{64}$/.test(v)) {
      this.fail(
        field,
        `must be a 64-digit lowercase hex SHA-256, got ${show(v)}`,
      );
    }
    return v;
  }

  /** The value must be a finite number at least `min`. */
  number(v: unknown, field: string, min = -Infinity, max = Infinity): number {
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
      const range = max === Infinity
        ? min === -Infinity ? "" : ` >= ${min}`
        : ` in [${min}, ${max}]`;
      this.fail(field, `must be a finite number${range}, got ${show(v)}`);
    }
    return v;
  }

  /** The value must be an integer at least `min`. */
  int(v: unknown, field: string, min = 0): number {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
      this.fail(field, `must be an integer >= ${min}, got ${show(v)}`);
    }
    return v;
  }

  /** The value must be an array of integers at least `min`. */
  ints(v: unknown, field: string, min = 0): number[] {
    return this.array(v, field).map((x, i) =>
      this.int(x, `${field}[${i}]`, min)
    );
  }
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Check a header object and return it in canonical key order. The stored
 * tensor list must equal the layout this code derives from the spec, so a
 * store written under a different parameter order is refused, not misread.
 */
export function validateHeader(raw: Obj, file: string): StoreHeader {
  const f = new Fields(file);
  const ds = f.object(raw.dataset, "dataset");
  const dataset = {
    name: f.string(ds.name, "dataset.name"),
    sha256: f.sha256(ds.sha256, "dataset.sha256"),
  };

  const m = f.object(raw.model, "model");
  const s = f.object(m.spec, "model.spec");
  const spec: ConvNetSpec = {
    inChannels: f.int(s.inChannels, "model.spec.inChannels", 1),
    height: f.int(s.height, "model.spec.height", 1),
    width: f.int(s.width, "model.spec.width", 1),
    numClasses: f.int(s.numClasses, "model.spec.numClasses", 1),
    netWidth: f.int(s.netWidth, "model.spec.netWidth", 1),
    netDepth: f.int(s.netDepth, "model.spec.netDepth", 1),
  };
  const model = ((): ModelInfo => {
    try {
      return modelInfo(spec);
    } catch (err) {
      return f.fail(
        "model.spec",
        `is not a valid ConvNet: ${(err as Error).message}`,
      );
    }
  })();
  f.int(m.numParams, "model.numParams", 1);
  if (m.numParams !== model.numParams) {
    f.fail(
      "model.numParams",
      `is ${m.numParams} but the spec gives ${model.numParams} parameters`,
    );
  }
  if (m.paramLayout !== "hwio") {
    f.fail("model.paramLayout", `must be "hwio", got ${show(m.paramLayout)}`);
  }
  const tensors = f.array(m.tensors, "model.tensors");
  if (tensors.length !== model.tensors.length) {
    f.fail(
      "model.tensors",
      `has ${tensors.length} entries but the spec gives ${model.tensors.length}`,
    );
  }
  model.tensors.forEach((want, i) => {
    const got = f.object(tensors[i], `model.tensors[${i}]`);
    for (const key of ["name", "role", "shape", "offset", "size"] as const) {
      if (JSON.stringify(got[key]) !== JSON.stringify(want[key])) {
        f.fail(
          `model.tensors[${i}].${key}`,
          `is ${show(got[key])} but this version's layout gives ` +
            `${show(want[key])}`,
        );
      }
    }
  });

  let zca: ZcaInfo | null = null;
  if (raw.zca !== null) {
    const z = f.object(raw.zca, "zca");
    zca = {
      regularization: f.number(z.regularization, "zca.regularization", 0),
      transformSha256: f.sha256(z.transformSha256, "zca.transformSha256"),
    };
  }

  const e = f.object(raw.expert, "expert");
  const expert: ExpertHyperParams = {
    lr: f.number(e.lr, "expert.lr", 0),
    batchSize: f.int(e.batchSize, "expert.batchSize", 1),
    epochs: f.int(e.epochs, "expert.epochs", 1),
    momentum: f.number(e.momentum, "expert.momentum", 0),
    weightDecay: f.number(e.weightDecay, "expert.weightDecay", 0),
    augmentation: f.string(e.augmentation, "expert.augmentation"),
  };
  return { dataset, model, zca, expert };
}

/** The layout a validated header describes. */
export function headerLayout(header: StoreHeader): ParamLayout {
  return paramLayout(header.model.spec);
}

/** Canonical text of a header, for "same store?" comparisons. */
export function headerKey(header: StoreHeader): string {
  return JSON.stringify(header);
}

// ---------------------------------------------------------------------------
// Reading and writing manifests and records.

/** Parse a JSON file, reporting a damaged one as CorruptFileError. */
export async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fsp.readFile(file, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") {
      throw new InputError(file, "file not found");
    }
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CorruptFileError(
      file,
      `not valid JSON (${(err as Error).message})`,
    );
  }
}

/**
 * Read a manifest and check its version and kind before anything else, since
 * a different version may have different fields altogether.
 */
export async function readManifest(
  dir: string,
  kind: StoreKind,
): Promise<{ file: string; raw: Obj; header: StoreHeader }> {
  const file = path.join(dir, MANIFEST_NAME);
  const f = new Fields(file);
  const raw = f.object(await readJson(file), "(root)");
  if (raw.formatVersion !== FORMAT_VERSION) {
    throw new InputError(
      file,
      `formatVersion ${show(raw.formatVersion)} is not supported; this ` +
        `version of trajbench reads formatVersion ${FORMAT_VERSION}`,
    );
  }
  if (raw.kind !== kind) {
    throw new InputError(
      file,
      `field "kind" is ${show(raw.kind)} but a "${kind}" store was expected`,
    );
  }
  const header = validateHeader(raw, file);
  f.array(raw.experts, "experts");
  return { file, raw, header };
}

/**
 * Every commit record in a folder, validated, sorted by index. Temporary
 * files of unfinished writes do not match the record pattern and are ignored.
 */
export async function readRecords<E extends { index: number }>(
  dir: string,
  validate: (raw: Obj, f: Fields) => E,
): Promise<E[]> {
  const out: E[] = [];
  for (const name of await fsp.readdir(dir)) {
    const m = RECORD_RE.exec(name);
    if (!m) continue;
    const file = path.join(dir, name);
    let raw: unknown;
    try {
      raw = await readJson(file);
    } catch (err) {
      // Removed between listing and reading: an overwrite in progress.
      if (err instanceof InputError && !(err instanceof CorruptFileError)) {
        continue;
      }
      throw err;
    }
    const f = new Fields(file);
    const entry = validate(f.object(raw, "(root)"), f);
    if (entry.index !== Number(m[1])) {
      f.fail("index", `is ${entry.index} but the file name says ${m[1]}`);
    }
    out.push(entry);
  }
  return out.sort((a, b) => a.index - b.index);
}

/**
 * One expert's commit record, validated, or null when it is not committed.
 */
export async function readRecord<E extends { index: number }>(
  dir: string,
  index: number,
  validate: (raw: Obj, f: Fields) => E,
): Promise<E | null> {
  const file = recordPath(dir, index);
  let raw: unknown;
  try {
    raw = await readJson(file);
  } catch (err) {
    if (err instanceof InputError && !(err instanceof CorruptFileError)) {
      return null;
    }
    throw err;
  }
  const f = new Fields(file);
  const entry = validate(f.object(raw, "(root)"), f);
  if (entry.index !== index) {
    f.fail("index", `is ${entry.index} but the file name says ${index}`);
  }
  return entry;
}

/**
 * Rebuild `manifest.json` from the records until what was written is still
 * current after the rename (see the module comment for why this suffices).
 */
export async function rebuildManifest<E extends { index: number }>(
  dir: string,
  build: (entries: E[]) => object,
  validate: (raw: Obj, f: Fields) => E,
): Promise<void> {
  const file = path.join(dir, MANIFEST_NAME);
  let written: string | null = null;
  for (let attempt = 0; attempt < 20; attempt++) {
    const text =
      JSON.stringify(build(await readRecords(dir, validate)), null, 2) +
      "\n";
    if (text === written) return;
    let current: string | null = null;
    try {
      current = await fsp.readFile(file, "utf8");
    } catch {
      current = null;
    }
    if (current !== text) await writeFileAtomic(file, text);
    written = text;
  }
}

/**
 * Commit one expert: withdraw any old record, write the data file atomically,
 * then write the record atomically. A process killed at any point leaves
 * either no record (the expert is simply missing) or a record whose data file
 * is complete.
 */
export async function commitExpert(
  dir: string,
  index: number,
  dataFile: string,
  data: Uint8Array,
  record: object,
): Promise<void> {
  await fsp.rm(recordPath(dir, index), { force: true });
  await writeFileAtomic(dataFile, data);
  await writeJsonAtomic(recordPath(dir, index), record);
}

/** Byte size of a file, or null when it does not exist. */
export async function fileSize(file: string): Promise<number | null> {
  try {
    return (await Deno.stat(file)).size;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

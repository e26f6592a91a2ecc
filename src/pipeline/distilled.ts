/**
 * A distilled image set on disk: `images.f32` (NHWC float32, class-major),
 * `distilled.json` (everything that made it), `images.png` (a grid, one row
 * per class) and `losses.csv` (matching loss and α per iteration).
 *
 * @module
 */
import * as path from "node:path";
import type { DistillConfig } from "../distill/config.ts";
import { CorruptFileError, InputError } from "../util/errors.ts";
import {
  bytesToFloat32,
  float32ToBytes,
  sha256,
  writeFileAtomic,
  writeJsonAtomic,
} from "../util/fs.ts";
import { imageGrid } from "../util/png.ts";

/** Format version of distilled.json. */
export const DISTILLED_VERSION = 1;

/** distilled.json. */
export interface DistilledManifest {
  formatVersion: number;
  config: DistillConfig;
  /** Iterations actually run. */
  iteration: number;
  /** The learned learning rate α, used to evaluate the set. */
  alpha: number;
  shape: [number, number, number, number];
  numClasses: number;
  labels: number[];
  classNames: string[];
  /** Data the experts were trained on (and the images initialised from). */
  data: {
    dataset: string;
    trainSha256: string;
    zcaSha256: string | null;
    settings: unknown;
  };
  /** Trajectory store matched. */
  experts: {
    dir: string;
    kind: string;
    contentHash: string;
    indices: number[];
  };
  backend: string;
  seconds: number;
  imagesSha256: string;
  finalLoss: number | null;
  /** The checkout that made it (absent in sets from before this field). */
  producedBy?: { commit: string; dirty: boolean };
}

/** A loaded distilled set. */
export interface Distilled {
  manifest: DistilledManifest;
  images: Float32Array;
}

/** Write a distilled set (images first, manifest last, each atomically). */
export async function saveDistilled(
  dir: string,
  manifest: Omit<DistilledManifest, "formatVersion" | "imagesSha256">,
  images: Float32Array,
  history: { losses: number[]; alphas: number[] },
): Promise<DistilledManifest> {
  const bytes = float32ToBytes(images);
  await writeFileAtomic(path.join(dir, "images.f32"), bytes);
  const [n, h, w, c] = manifest.shape;
  const ipc = n / manifest.numClasses;
  const grid = imageGrid(images, n, h, w, c === 1 ? 1 : 3, ipc);
  await writeFileAtomic(path.join(dir, "images.png"), grid.png);
  const csv = ["iteration,loss,alpha"].concat(
    history.losses.map((l, i) => `${i + 1},${l},${history.alphas[i]}`),
  ).join("\n") + "\n";
  await writeFileAtomic(path.join(dir, "losses.csv"), csv);
  const full: DistilledManifest = {
    formatVersion: DISTILLED_VERSION,
    ...manifest,
    imagesSha256: sha256(bytes),
  };
  await writeJsonAtomic(path.join(dir, "distilled.json"), full);
  return full;
}

/** Read and verify a distilled set. */
export async function loadDistilled(dir: string): Promise<Distilled> {
  const file = path.join(dir, "distilled.json");
  let manifest: DistilledManifest;
  try {
    manifest = JSON.parse(await Deno.readTextFile(file));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new InputError(
        dir,
        "holds no distilled.json; is this the output folder of deno task distill?",
      );
    }
    throw new CorruptFileError(
      file,
      `is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (manifest.formatVersion !== DISTILLED_VERSION) {
    throw new InputError(
      file,
      `has format version ${manifest.formatVersion}, this version reads ${DISTILLED_VERSION}`,
    );
  }
  const dataFile = path.join(dir, "images.f32");
  const bytes = await Deno.readFile(dataFile);
  const expected = manifest.shape.reduce((a, b) => a * b, 1) * 4;
  if (bytes.byteLength !== expected) {
    throw new CorruptFileError(
      dataFile,
      `has ${bytes.byteLength} bytes, expected ${expected}`,
    );
  }
  if (sha256(bytes) !== manifest.imagesSha256) {
    throw new CorruptFileError(
      dataFile,
      "does not match the checksum in distilled.json",
    );
  }
  return { manifest, images: bytesToFloat32(bytes) };
}

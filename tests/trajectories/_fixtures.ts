/** Shared helpers for the trajectory tests. */
import { loadGolden } from "../_golden.ts";
import type { ConvNetSpec } from "../../src/model/layout.ts";
import { paramLayout } from "../../src/model/layout.ts";
import { fromReferenceFlat } from "../../src/model/reference_layout.ts";
import type { StoreHeaderInput } from "../../src/trajectories/store.ts";
import { Rng } from "../../src/util/rng.ts";

/** The width-2, depth-1 ConvNet of convexify.json (P = 192, 6 layers). */
export const TOY_SPEC: ConvNetSpec = {
  inChannels: 3,
  height: 8,
  width: 8,
  numClasses: 4,
  netWidth: 2,
  netDepth: 1,
};

/** A valid store header for `spec`. */
export function header(spec: ConvNetSpec = TOY_SPEC): StoreHeaderInput {
  return {
    dataset: { name: "toy", sha256: "ab".repeat(32) },
    model: spec,
    zca: { regularization: 0.1, transformSha256: "cd".repeat(32) },
    expert: {
      lr: 0.1,
      batchSize: 8,
      epochs: 50,
      momentum: 0,
      weightDecay: 0,
      augmentation: "none",
    },
  };
}

/** The golden trajectory as native float32 snapshots. */
export function goldenNativeSnapshots(): Float32Array[] {
  const g = loadGolden("convexify.json");
  const P: number = g.num_params;
  const layout = paramLayout(TOY_SPEC);
  const data: number[] = g.trajectory.data;
  return Array.from(
    { length: g.trajectory.shape[0] },
    (_, e) =>
      fromReferenceFlat(
        layout,
        Float32Array.from(data.slice(e * P, (e + 1) * P)),
      ),
  );
}

/** S distinct random snapshots of P values. */
export function randomSnapshots(
  P: number,
  S: number,
  seed = 1,
): Float32Array[] {
  const rng = new Rng(seed);
  const out = [rng.normalArray(P)];
  for (let e = 1; e < S; e++) {
    out.push(out[e - 1]!.map((v) => v + 0.01 * rng.normal()));
  }
  return out;
}

/** A fresh temporary folder; remove it with `Deno.remove(dir, {recursive})`. */
export function tempDir(): Promise<string> {
  return Deno.makeTempDir({ prefix: "trajbench-test-" });
}

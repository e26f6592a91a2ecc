/** A tiny expert store trained on toy data, shared by the distillation tests. */
import { convNetSpec, paramLayout } from "../../src/model/layout.ts";
import { initParams } from "../../src/model/convnet.ts";
import { type LabelledImages, trainSgd } from "../../src/train/sgd.ts";
import { createStore, writeExpert } from "../../src/trajectories/store.ts";
import { convexifyStore } from "../../src/trajectories/convexified_store.ts";
import { Rng } from "../../src/util/rng.ts";

export const TOY = convNetSpec({
  inChannels: 1,
  height: 8,
  width: 8,
  numClasses: 3,
}, { netWidth: 4, netDepth: 2 });

/** Three classes: a bright band in the top, middle or bottom rows. */
export function toyImages(count: number, rng: Rng): LabelledImages {
  const images = new Float32Array(count * 64);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const k = i % 3;
    labels[i] = k;
    for (let p = 0; p < 64; p++) {
      const row = Math.floor(p / 8);
      images[i * 64 + p] = 0.5 * rng.normal() +
        (Math.floor(row / 3) === k ? 1.5 : 0);
    }
  }
  return {
    images,
    labels,
    count,
    height: 8,
    width: 8,
    channels: 1,
    numClasses: 3,
  };
}

/** Train `experts` experts for `epochs` epochs into `dir`/sgd, convexify into `dir`/mct. */
export async function toyStores(
  dir: string,
  experts = 2,
  epochs = 6,
): Promise<{ sgd: string; mct: string; train: LabelledImages }> {
  const train = toyImages(60, new Rng(100));
  const layout = paramLayout(TOY);
  const sgd = `${dir}/sgd`;
  const store = await createStore(sgd, {
    dataset: { name: "toy", sha256: "00".repeat(32) },
    model: TOY,
    zca: null,
    expert: {
      lr: 0.05,
      batchSize: 20,
      epochs,
      momentum: 0,
      weightDecay: 0,
      augmentation: "none",
    },
  });
  for (let e = 0; e < experts; e++) {
    const theta0 = initParams(layout, new Rng(200 + e));
    const snaps = [theta0];
    await trainSgd(layout, theta0, train, {
      epochs,
      lr: 0.05,
      batchSize: 20,
      rng: new Rng(300 + e),
      onEpoch: (_ep, theta) => {
        snaps.push(theta);
      },
    });
    await writeExpert(store, e, snaps, {
      seed: 200 + e,
      testAccuracy: 0.9,
      wallSeconds: 1,
    });
  }
  const mct = `${dir}/mct`;
  await convexifyStore(sgd, mct, { waypoints: 3, quiet: true });
  return { sgd, mct, train };
}

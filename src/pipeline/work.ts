/**
 * Content-addressed folders for intermediate results (expert stores,
 * convexified stores, distilled sets, evaluations), so every stage can be
 * reused and resumed: the folder name is a hash of everything that determines
 * its contents.
 *
 * @module
 */
import * as path from "node:path";
import { sha256 } from "../util/fs.ts";

/** Root of intermediate results: `$TRAJBENCH_WORK`, else `./work`. */
export function workRoot(): string {
  return Deno.env.get("TRAJBENCH_WORK") ?? "work";
}

/** JSON with sorted keys, so equal settings always hash alike. */
export function stableJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(
          Object.entries(v).sort(([a], [b]) => a.localeCompare(b)),
        )
        : v,
  );
}

/** Short content key of a settings object. */
export function contentKey(value: unknown): string {
  return sha256(stableJson(value)).slice(0, 16);
}

/** `<work>/<stage>/<label>-<key>`. */
export function workDir(
  stage: string,
  label: string,
  settings: unknown,
  root = workRoot(),
): string {
  return path.join(root, stage, `${label}-${contentKey(settings)}`);
}

/**
 * Where data lives: the cache folder, the system copy of Fashion-MNIST, and
 * the base URL archives are downloaded from.
 *
 * @module
 */
import * as os from "node:os";
import * as path from "node:path";
import type { ArchiveFile } from "./datasets.ts";

/** Where Debian's `dataset-fashion-mnist` package installs its files. */
export const SYSTEM_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

/**
 * The cache folder for data sets: `$TRAJBENCH_DATA`, else
 * `$XDG_CACHE_HOME/trajbench/data`, else `~/.cache/trajbench/data`.
 *
 * @example
 * ```ts
 * import { defaultDataRoot } from "./paths.ts";
 * if (defaultDataRoot().length === 0) throw new Error("empty path");
 * ```
 */
export function defaultDataRoot(): string {
  const explicit = Deno.env.get("TRAJBENCH_DATA");
  if (explicit) return path.resolve(explicit);
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return path.join(path.resolve(xdg), "trajbench", "data");
  const home = Deno.env.get("HOME") || os.homedir();
  return path.join(home, ".cache", "trajbench", "data");
}

/**
 * The base URL that replaces every archive's official one: the `mirror`
 * option, else `$TRAJBENCH_MIRROR`, else none.
 */
export function resolveMirror(mirror?: string): string | undefined {
  const chosen = mirror ?? Deno.env.get("TRAJBENCH_MIRROR");
  return chosen ? chosen : undefined;
}

/**
 * Download URL of an archive, honouring a mirror.
 *
 * @example
 * ```ts
 * import { archiveUrl } from "./paths.ts";
 * const file = { fileName: "a.tar.gz", baseUrl: "https://x.org", md5: "" };
 * const url = archiveUrl(file, "http://127.0.0.1:8000/m/");
 * if (url !== "http://127.0.0.1:8000/m/a.tar.gz") throw new Error(url);
 * ```
 */
export function archiveUrl(file: ArchiveFile, mirror?: string): string {
  const base = resolveMirror(mirror) ?? file.baseUrl;
  return `${base.replace(/\/+$/, "")}/${file.fileName}`;
}

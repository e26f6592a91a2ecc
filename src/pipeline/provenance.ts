/**
 * Facts about the machine and checkout recorded with every result.
 *
 * @module
 */
import * as os from "node:os";
import { backendInfo } from "../backend/mod.ts";
import { tf } from "../backend/tf.ts";

async function git(args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", {
      args,
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

/** HEAD commit and whether tracked files have uncommitted changes. */
export async function gitState(): Promise<{ commit: string; dirty: boolean }> {
  const commit = await git(["rev-parse", "HEAD"]);
  const status = await git(["status", "--porcelain", "--untracked-files=no"]);
  return {
    commit: commit ?? "unknown",
    dirty: status === null ? true : status.length > 0,
  };
}

/** CPU model and core count. */
export function cpuDescription(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model?.trim() ?? "unknown CPU"} (${cpus.length} cores)`;
}

/** One line naming the backend, its package and the native kernel path. */
export function describeBackend(
  b: NonNullable<ReturnType<typeof backendInfo>>,
): string {
  const parts = [b.package];
  if (b.simd !== undefined) parts.push(b.simd ? "simd" : "no simd");
  if (b.native) {
    parts.push(
      b.native.active
        ? `native kernels${b.native.blas ? ` (${b.native.blas})` : ""}`
        : "native kernels off",
    );
  }
  return `${b.name} (${parts.join(", ")})`;
}

/** Versions of the runtime, TensorFlow.js and the backend. */
export function runtimeVersions(): {
  deno: string;
  tfjs: string;
  backend: string;
  os: string;
} {
  const b = backendInfo();
  return {
    deno: Deno.version.deno,
    tfjs: tf.version.tfjs,
    backend: b ? describeBackend(b) : "not initialised",
    os: `${Deno.build.os} ${os.release()} ${Deno.build.arch}`,
  };
}

/** The checkout state a stage's output was produced at. */
export interface ProducedBy {
  commit: string;
  dirty: boolean;
}

let producer: Promise<ProducedBy> | undefined;

/** The commit this process runs (read once: later commits do not change the code already loaded). */
export function producedBy(): Promise<ProducedBy> {
  producer ??= gitState();
  return producer;
}

/** One stage output used by this process, made now or reused from the cache. */
export interface ArtifactUse {
  stage: string;
  path: string;
  /** Null when the output predates this record. */
  producedBy: ProducedBy | null;
  reused: boolean;
}

const uses: ArtifactUse[] = [];

/** Record that a stage output was used. */
export function noteArtifact(use: ArtifactUse): void {
  uses.push(use);
}

/** Every stage output used so far in this process. */
export function artifactUses(): readonly ArtifactUse[] {
  return uses;
}

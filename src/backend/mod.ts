/**
 * Tensor backend selection.
 *
 * `auto` prefers the native TensorFlow backend when the optional package
 * `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node` can be imported,
 * then WebAssembly (SIMD), then the pure-JavaScript `cpu` backend. Code above
 * this module never asks which backend it runs on; it only calls
 * {@link initBackend} once at start-up and records {@link BackendInfo} in its
 * outputs.
 *
 * On `wasm` and `cpu` the suite's native kernels (native/, see native.ts)
 * replace the heavy kernels when their library is built; `TRAJBENCH_NATIVE`
 * (`auto`, `on`, `off`) controls that.
 *
 * @module
 */
import { tf } from "./tf.ts";
import { InputError } from "../util/errors.ts";
import {
  disableNativeKernels,
  enableNativeKernels,
  NATIVE_CHOICES,
  type NativeChoice,
  type NativeKernelsInfo,
  parseNativeChoice,
} from "./native.ts";

export {
  NATIVE_CHOICES,
  NATIVE_KERNELS,
  type NativeChoice,
  type NativeKernelsInfo,
  nativeKernelsInfo,
} from "./native.ts";

/** Backend names accepted by `--backend` and `TRAJBENCH_BACKEND`. */
export const BACKEND_CHOICES = ["auto", "tensorflow", "wasm", "cpu"] as const;
/** One of {@link BACKEND_CHOICES}. */
export type BackendChoice = typeof BACKEND_CHOICES[number];

/** What was chosen, recorded in every manifest and report. */
export interface BackendInfo {
  /** The TensorFlow.js backend name in use. */
  name: string;
  /** TensorFlow.js version. */
  tfjsVersion: string;
  /** The package that supplied the backend, with its version where known. */
  package: string;
  /** Whether the wasm backend runs with SIMD. */
  simd?: boolean;
  /** The native kernel path (wasm and cpu backends only). */
  native?: NativeKernelsInfo;
}

let current: BackendInfo | undefined;

/** Parse a backend name from a flag or environment variable. */
export function parseBackendChoice(
  value: string | undefined,
  subject = "--backend",
): BackendChoice {
  const v = (value ?? "auto").trim().toLowerCase();
  if ((BACKEND_CHOICES as readonly string[]).includes(v)) {
    return v as BackendChoice;
  }
  throw new InputError(
    subject,
    `unknown backend "${value}"; expected one of ${BACKEND_CHOICES.join(", ")}`,
  );
}

async function tryNative(): Promise<BackendInfo | undefined> {
  // Bare, non-literal specifiers keep these optional packages out of the
  // module graph and never trigger a download: they resolve only after a user
  // added them to deno.json on purpose (README, "TensorFlow backend").
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    const specifier = pkg;
    try {
      const mod = await import(specifier);
      if (await tf.setBackend("tensorflow")) {
        await tf.ready();
        const version = (mod as { version?: Record<string, string> }).version;
        return {
          name: "tensorflow",
          tfjsVersion: tf.version.tfjs,
          package: `${pkg}@${version?.["tfjs-node"] ?? "unknown"}`,
        };
      }
    } catch {
      // Not installed, or its native library is missing: try the next one.
    }
  }
  return undefined;
}

async function tryWasm(): Promise<BackendInfo | undefined> {
  try {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    if (!(await tf.setBackend("wasm"))) return undefined;
    await tf.ready();
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    return {
      name: "wasm",
      tfjsVersion: tf.version.tfjs,
      package: `@tensorflow/tfjs-backend-wasm@${wasm.version_wasm}`,
      simd: Boolean(simd),
    };
  } catch {
    return undefined;
  }
}

async function useCpu(): Promise<BackendInfo> {
  await tf.setBackend("cpu");
  await tf.ready();
  return {
    name: "cpu",
    tfjsVersion: tf.version.tfjs,
    package: `@tensorflow/tfjs-backend-cpu@${tf.version.tfjs}`,
  };
}

/** Options for {@link initBackend}. */
export interface InitBackendOptions {
  /** Which backend; falls back to `TRAJBENCH_BACKEND`, then `auto`. */
  backend?: BackendChoice | string;
  /**
   * Native kernels: `auto` uses them when the library is built, `on`
   * requires them, `off` keeps the stock kernels.
   * @default $TRAJBENCH_NATIVE, then "auto"
   */
  native?: NativeChoice | string;
  /** Log the chosen backend to stderr. @default true */
  log?: boolean;
}

function applyNative(
  info: BackendInfo,
  value: string | undefined,
  subject: string,
): NativeKernelsInfo {
  const choice = parseNativeChoice(value);
  if (!choice) {
    throw new InputError(
      subject,
      `unknown setting "${value}"; expected one of ${
        NATIVE_CHOICES.join(", ")
      }`,
    );
  }
  if (info.name !== "wasm" && info.name !== "cpu") {
    disableNativeKernels(`not used with the ${info.name} backend`);
    return { active: false, reason: `not used with the ${info.name} backend` };
  }
  if (choice === "off") {
    disableNativeKernels(`switched off (${subject}=off)`);
    return { active: false, reason: `switched off (${subject}=off)` };
  }
  const native = enableNativeKernels();
  if (!native.active && choice === "on") {
    throw new InputError(
      subject,
      `native kernels unavailable: ${native.reason}`,
    );
  }
  return native;
}

function describeNative(n: NativeKernelsInfo | undefined): string {
  if (!n) return "";
  if (!n.active) return `; native kernels off: ${n.reason ?? "unknown"}`;
  return `; native kernels on (${n.threads} threads, ${n.blas ?? "BLAS"})`;
}

/**
 * Select and initialise the tensor backend once per process.
 *
 * @returns what was chosen, to be recorded in manifests
 * @throws InputError when an explicitly requested backend is unavailable
 */
export async function initBackend(
  options: InitBackendOptions = {},
): Promise<BackendInfo> {
  const fromEnv = Deno.env.get("TRAJBENCH_BACKEND");
  const subject = options.backend !== undefined
    ? "--backend"
    : "TRAJBENCH_BACKEND";
  const choice = parseBackendChoice(options.backend ?? fromEnv, subject);
  const nativeValue = options.native ?? Deno.env.get("TRAJBENCH_NATIVE");
  const nativeSubject = options.native !== undefined
    ? "--native"
    : "TRAJBENCH_NATIVE";
  if (current && (choice === "auto" || choice === current.name)) {
    const native = applyNative(current, nativeValue, nativeSubject);
    if (native.active !== current.native?.active) {
      current = { ...current, native };
    }
    return current;
  }

  let info: BackendInfo | undefined;
  if (choice === "tensorflow" || choice === "auto") info = await tryNative();
  if (!info && choice === "tensorflow") {
    throw new InputError(
      subject,
      "the native backend needs @tensorflow/tfjs-node or " +
        "@tensorflow/tfjs-node-gpu; see the README section 'TensorFlow backend'",
    );
  }
  if (!info && (choice === "wasm" || choice === "auto")) info = await tryWasm();
  if (!info && choice === "wasm") {
    throw new InputError(subject, "the wasm backend failed to initialise");
  }
  info ??= await useCpu();
  tf.enableProdMode();
  info.native = applyNative(info, nativeValue, nativeSubject);
  current = info;
  if (options.log ?? true) {
    console.error(
      `[trajbench] backend ${info.name} (${info.package}, tfjs ${info.tfjsVersion}${
        info.simd === undefined ? "" : info.simd ? ", simd" : ", no simd"
      }${describeNative(info.native)})`,
    );
  }
  return info;
}

/** The backend chosen by {@link initBackend}, or undefined before it ran. */
export function backendInfo(): BackendInfo | undefined {
  return current;
}

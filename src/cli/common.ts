/**
 * Shared command-line plumbing: flag parsing with errors that name the flag,
 * backend start-up, and a wrapper that prints user errors without a stack.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { DivergenceError, InputError, ResourceError } from "../util/errors.ts";

/** Options spec as node:util parseArgs takes it. */
export type FlagSpec = NonNullable<ParseArgsConfig["options"]>;

/** Flags every command accepts. */
export const COMMON_FLAGS: FlagSpec = {
  backend: { type: "string" },
  help: { type: "boolean", short: "h" },
  quiet: { type: "boolean", short: "q" },
};

/** Parse `args`; unknown flags and missing values become InputErrors. */
export function parseFlags(
  args: string[],
  options: FlagSpec,
  allowPositionals = false,
): {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
} {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...COMMON_FLAGS, ...options },
      strict: true,
      allowPositionals,
    });
    return {
      values: values as Record<string, string | boolean | undefined>,
      positionals,
    };
  } catch (err) {
    const msg = (err as Error).message;
    const flag = /'(-[-\w]+)/.exec(msg)?.[1] ?? "arguments";
    throw new InputError(flag, msg.replace(/\. To specify.*$/, ""));
  }
}

/** A number flag: validated, with the flag named in errors. */
export function numberFlag(
  values: Record<string, string | boolean | undefined>,
  name: string,
  fallback: number,
  check: { integer?: boolean; min?: number; max?: number } = {},
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(v)) {
    throw new InputError(`--${name}`, `expected a number, got "${raw}"`);
  }
  if (check.integer && !Number.isInteger(v)) {
    throw new InputError(`--${name}`, `expected a whole number, got ${raw}`);
  }
  if (check.min !== undefined && v < check.min) {
    throw new InputError(
      `--${name}`,
      `must be at least ${check.min}, got ${raw}`,
    );
  }
  if (check.max !== undefined && v > check.max) {
    throw new InputError(
      `--${name}`,
      `must be at most ${check.max}, got ${raw}`,
    );
  }
  return v;
}

/** A string flag restricted to `choices`. */
export function choiceFlag<T extends string>(
  values: Record<string, string | boolean | undefined>,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (typeof raw === "string" && (choices as readonly string[]).includes(raw)) {
    return raw as T;
  }
  throw new InputError(
    `--${name}`,
    `expected one of ${choices.join(", ")}, got "${raw}"`,
  );
}

/** Expand "0..9", "3" (a count), or "0,4,7" into expert indices. */
export function parseExpertList(raw: string, flag = "--experts"): number[] {
  const s = raw.trim();
  const range = /^(\d+)\.\.(\d+)$/.exec(s);
  if (range) {
    const [a, b] = [Number(range[1]), Number(range[2])];
    if (b < a) throw new InputError(flag, `empty range ${s}`);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1) throw new InputError(flag, "needs at least one expert");
    return Array.from({ length: n }, (_, i) => i);
  }
  if (/^\d+(,\d+)*$/.test(s)) {
    return [...new Set(s.split(",").map(Number))].sort((a, b) => a - b);
  }
  throw new InputError(
    flag,
    `expected a count (3), a range (0..9) or a list (0,4,7), got "${raw}"`,
  );
}

/**
 * Run a command's main function: user errors print their message and exit 2,
 * divergence exits 3, running out of tensor memory 4; anything else is a bug
 * and keeps its stack.
 */
export async function runCli(
  main: (args: string[]) => Promise<number | void>,
): Promise<never> {
  let code = 0;
  try {
    code = (await main(Deno.args)) ?? 0;
  } catch (err) {
    if (err instanceof InputError) {
      console.error(`error: ${err.message}`);
      code = 2;
    } else if (err instanceof DivergenceError) {
      console.error(`error: ${err.message}`);
      code = 3;
    } else if (err instanceof ResourceError) {
      console.error(`error: ${err.message}`);
      code = 4;
    } else {
      throw err;
    }
  }
  Deno.exit(code);
}

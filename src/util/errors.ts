/**
 * Errors that reach the user. Each names the file, field or flag at fault so
 * the command line can print the message alone, without a stack trace.
 *
 * @module
 */

/** A problem with something the user supplied: a file, a flag, a config. */
export class InputError extends Error {
  /** The file, flag or field the problem is about. */
  readonly subject: string;
  constructor(subject: string, problem: string) {
    super(`${subject}: ${problem}`);
    this.name = "InputError";
    this.subject = subject;
  }
}

/** A file on disk is damaged: wrong size, wrong checksum, bad header. */
export class CorruptFileError extends InputError {
  constructor(file: string, problem: string) {
    super(file, problem);
    this.name = "CorruptFileError";
  }
}

/** A data set is not on this machine and cannot be downloaded. */
export class MissingDataError extends InputError {
  constructor(subject: string, problem: string) {
    super(subject, problem);
    this.name = "MissingDataError";
  }
}

/** A numerical run went wrong (NaN, infinite, negative learning rate). */
export class DivergenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DivergenceError";
  }
}

/** The tensor backend ran out of memory (e.g. the 4 GiB WebAssembly heap). */
export class ResourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ResourceError";
  }
}

const OUT_OF_MEMORY =
  /memory access out of bounds|Invalid typed array length|Array buffer allocation failed|out of memory|XNN status/i;

/**
 * Turn the ways a backend fails when memory runs out into one clear
 * {@link ResourceError}; other errors pass through unchanged.
 *
 * @param what what was being computed, for the message
 */
export function explainBackendFailure(err: unknown, what: string): unknown {
  if (err instanceof Error && OUT_OF_MEMORY.test(err.message)) {
    return new ResourceError(
      `${what} ran out of tensor memory (${
        err.message.split("\n")[0]
      }). The WebAssembly ` +
        `backend's heap is capped at 4 GiB: use smaller minibatches (--batch-syn), fewer ` +
        `student steps, a narrower network, or the native TensorFlow backend (README, "Backends").`,
    );
  }
  return err;
}

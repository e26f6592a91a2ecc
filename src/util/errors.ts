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

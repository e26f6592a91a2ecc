/**
 * A reader for uncompressed tar data (ustar, with the GNU long-name and pax
 * path extensions), enough for the CIFAR archives.
 *
 * @module
 */
import { CorruptFileError } from "../util/errors.ts";

/** One member of a tar archive. */
export interface TarEntry {
  /** Path inside the archive, with "/" separators. */
  path: string;
  /** Regular file or folder; other kinds (links, devices) are skipped. */
  type: "file" | "dir";
  /** File contents (a view into the archive bytes). */
  data: Uint8Array;
}

const BLOCK = 512;
const decoder = new TextDecoder();

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

function octal(field: Uint8Array, archive: string, what: string): number {
  // GNU tar stores sizes above 8 GiB in base-256 with the high bit set.
  if ((field[0]! & 0x80) !== 0) {
    let v = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) v = v * 256 + field[i]!;
    return v;
  }
  const text = cString(field).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) {
    throw new CorruptFileError(archive, `bad ${what} field "${text}" in tar`);
  }
  return parseInt(text, 8);
}

function parsePax(data: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const text = decoder.decode(data);
  let pos = 0;
  while (pos < text.length) {
    const space = text.indexOf(" ", pos);
    if (space < 0) break;
    const len = parseInt(text.slice(pos, space), 10);
    if (!(len > 0)) break;
    const record = text.slice(space + 1, pos + len - 1);
    const eq = record.indexOf("=");
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return out;
}

/**
 * Walk the members of tar bytes in order.
 *
 * @param bytes the whole uncompressed archive
 * @param archive file name used in error messages
 * @throws CorruptFileError on a bad header checksum, a member running past
 *   the end, or a missing end-of-archive marker (all signs of truncation)
 */
export function* readTar(
  bytes: Uint8Array,
  archive: string,
): Generator<TarEntry> {
  let offset = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  for (;;) {
    if (offset + BLOCK > bytes.length) {
      throw new CorruptFileError(
        archive,
        `tar data ends at byte ${bytes.length} without the end-of-archive ` +
          `marker (truncated archive)`,
      );
    }
    const header = bytes.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return;

    const stored = octal(header.subarray(148, 156), archive, "checksum");
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) {
      sum += i >= 148 && i < 156 ? 32 : header[i]!;
    }
    if (sum !== stored) {
      throw new CorruptFileError(
        archive,
        `tar header at byte ${offset} has checksum ${stored}, computed ${sum}`,
      );
    }
    const size = octal(header.subarray(124, 136), archive, "size");
    const type = String.fromCharCode(header[156]!);
    let name = cString(header.subarray(0, 100));
    // Only POSIX ustar ("ustar\0") has a name prefix at 345; old GNU headers
    // ("ustar  \0") keep access and change times there.
    if (cString(header.subarray(257, 263)) === "ustar") {
      const prefix = cString(header.subarray(345, 500));
      if (prefix) name = `${prefix}/${name}`;
    }
    const start = offset + BLOCK;
    const end = start + size;
    if (end > bytes.length) {
      throw new CorruptFileError(
        archive,
        `member "${name}" needs ${size} bytes but the archive ends after ` +
          `${bytes.length - start} (truncated archive)`,
      );
    }
    const data = bytes.subarray(start, end);
    offset = start + Math.ceil(size / BLOCK) * BLOCK;

    if (type === "L") {
      longName = cString(data);
      continue;
    }
    if (type === "x") {
      paxPath = parsePax(data).get("path");
      continue;
    }
    if (type === "g") continue;
    const fullName = paxPath ?? longName ?? name;
    paxPath = undefined;
    longName = undefined;
    if (type === "0" || type === "\0" || type === "7") {
      yield { path: fullName, type: "file", data };
    } else if (type === "5") {
      yield { path: fullName, type: "dir", data };
    }
  }
}

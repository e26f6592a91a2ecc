/**
 * File helpers: atomic writes and checksums.
 *
 * A write goes to a temporary file in the same folder, is flushed, then
 * renamed over the target, so a reader never sees a half-written file.
 *
 * @module
 */
import { createHash } from "node:crypto";
import * as fsp from "node:fs/promises";
import * as path from "node:path";

/** Write bytes or text to `file` atomically (temp file, fsync, rename). */
export async function writeFileAtomic(
  file: string,
  data: Uint8Array | string,
): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const handle = await fsp.open(tmp, "w");
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/** Write JSON (two-space indent, trailing newline) atomically. */
export function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, JSON.stringify(value, null, 2) + "\n");
}

/** Hex SHA-256 of a byte array. */
export function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Hex digest (`sha256`, `md5`, …) of a file, streamed so large files do not fill memory. */
export async function hashFile(
  file: string,
  algorithm: string,
): Promise<string> {
  const hash = createHash(algorithm);
  const handle = await fsp.open(file, "r");
  try {
    const buf = new Uint8Array(1 << 20);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

/** Hex SHA-256 of a file, streamed. */
export function sha256File(file: string): Promise<string> {
  return hashFile(file, "sha256");
}

/** True when `file` exists (any kind). */
export async function exists(file: string): Promise<boolean> {
  try {
    await fsp.stat(file);
    return true;
  } catch {
    return false;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Float32 data as little-endian bytes: a view on little-endian hosts (every
 * platform Deno ships for), a byte-swapped copy elsewhere.
 */
export function float32ToBytes(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) {
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  }
  const out = new Uint8Array(values.byteLength);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return out;
}

/** Read little-endian float32 data from bytes into a fresh, aligned array. */
export function bytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) {
    throw new RangeError(
      `float32 data needs a multiple of 4 bytes, got ${bytes.byteLength}`,
    );
  }
  const out = new Float32Array(bytes.byteLength / 4);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  }
  return out;
}

/**
 * A small PNG encoder (8-bit greyscale or RGB, no interlace) over node:zlib,
 * enough to show distilled images as a grid.
 *
 * @module
 */
import { deflateSync } from "node:zlib";

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encode pixels (row-major, interleaved channels) as a PNG file.
 *
 * @param channels 1 (greyscale) or 3 (RGB)
 */
export function encodePng(
  width: number,
  height: number,
  channels: 1 | 3,
  pixels: Uint8Array,
): Uint8Array {
  if (pixels.length !== width * height * channels) {
    throw new RangeError(
      `PNG needs ${width}×${height}×${channels} bytes, got ${pixels.length}`,
    );
  }
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header[8] = 8;
  header[9] = channels === 1 ? 0 : 2;
  const stride = width * channels;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0;
    raw.set(
      pixels.subarray(y * stride, (y + 1) * stride),
      y * (stride + 1) + 1,
    );
  }
  const parts = [
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    chunk("IHDR", header),
    chunk("IDAT", new Uint8Array(deflateSync(raw))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Lay out `count` NHWC float images as a grid, `perRow` per row with a 1-pixel
 * gap, each scaled by its own 1st–99th percentile range so whitened or
 * normalised images stay visible.
 */
export function imageGrid(
  images: Float32Array,
  count: number,
  height: number,
  width: number,
  channels: 1 | 3,
  perRow: number,
): { png: Uint8Array; width: number; height: number } {
  const rows = Math.ceil(count / perRow);
  const gw = perRow * (width + 1) + 1;
  const gh = rows * (height + 1) + 1;
  const out = new Uint8Array(gw * gh * channels).fill(255);
  const n = height * width * channels;
  for (let i = 0; i < count; i++) {
    const img = images.subarray(i * n, (i + 1) * n);
    const sorted = Float32Array.from(img).sort();
    const lo = sorted[Math.floor(0.01 * (n - 1))]!;
    const hi = sorted[Math.ceil(0.99 * (n - 1))]!;
    const span = hi - lo || 1;
    const ox = (i % perRow) * (width + 1) + 1;
    const oy = Math.floor(i / perRow) * (height + 1) + 1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < channels; c++) {
          const v = (img[(y * width + x) * channels + c]! - lo) / span;
          out[((oy + y) * gw + ox + x) * channels + c] = Math.round(
            255 * Math.min(1, Math.max(0, v)),
          );
        }
      }
    }
  }
  return { png: encodePng(gw, gh, channels, out), width: gw, height: gh };
}

/**
 * Number formatting shared by the CSV, Markdown and SVG writers. Fixed
 * decimals and no exponent notation, so output is byte-stable and diffs
 * line up.
 *
 * @module
 */

/** `x.toFixed(digits)`, with negative zero printed as zero. */
export function fixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

/**
 * The shortest decimal that reads back as exactly `x`, never in exponent
 * form (`1e-7` becomes `0.0000001`).
 */
export function plainNumber(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`);
  if (Object.is(x, -0)) return "0";
  const s = String(x);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m === null) return s;
  const [, sign, lead, frac = "", expText] = m;
  const digits = lead! + frac;
  const exp = Number(expText);
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  return `${sign}${digits}${"0".repeat(Math.max(0, exp - frac.length))}`;
}

/** Fixed decimals with an explicit sign: `+1.25`, `−0.40`, `0.00`. */
export function signedFixed(x: number, digits: number): string {
  const s = fixed(x, digits);
  if (s.startsWith("-")) return `−${s.slice(1)}`;
  return /^0\.?0*$/.test(s) ? s : `+${s}`;
}

/** Bytes in binary units (KiB, MiB, GiB), two decimals. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} B` : `${fixed(v, 2)} ${units[u]}`;
}

/** Escape text for XML character data and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;")
    .replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

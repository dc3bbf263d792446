/**
 * Cursor offsets: the Jupyter protocol (5.2+) counts unicode code points, JavaScript strings count
 * UTF-16 units. The server converts at the wire so engines only see JS string indices.
 */

/** Code-point offset → UTF-16 index into `code` (clamped to the string). */
export function codePointsToUtf16(code: string, offset: number): number {
  let index = 0;
  for (let points = 0; points < offset && index < code.length; points++) {
    const unit = code.charCodeAt(index);
    index += unit >= 0xd800 && unit <= 0xdbff && index + 1 < code.length ? 2 : 1;
  }
  return index;
}

/** UTF-16 index into `code` → code-point offset. */
export function utf16ToCodePoints(code: string, index: number): number {
  let points = 0;
  for (let i = 0; i < index && i < code.length; points++) {
    const unit = code.charCodeAt(i);
    i += unit >= 0xd800 && unit <= 0xdbff && i + 1 < code.length ? 2 : 1;
  }
  return points;
}

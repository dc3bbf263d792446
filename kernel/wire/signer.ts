/**
 * Message signatures: HMAC over the four JSON frames (header, parent_header, metadata, content),
 * hex-encoded. Buffer frames are not signed. An empty key means messages are not signed: the
 * signature frame is empty and every incoming signature is accepted.
 */
import { createHmac, timingSafeEqual } from "crypto";

export interface Signer {
  /** Hex signature of the frames ("" without a key). */
  sign(frames: Buffer[]): string;
  /** Whether `signature` is the frames' signature (constant-time compare); always true without a key. */
  verify(signature: string, frames: Buffer[]): boolean;
}

/** Jupyter names schemes "hmac-<digest>"; the connection file reader only lets hmac-sha256 through. */
export function createSigner(key: string, scheme = "hmac-sha256"): Signer {
  if (key === "") {
    return { sign: () => "", verify: () => true };
  }
  if (!scheme.startsWith("hmac-")) throw new Error(`unsupported signature_scheme "${scheme}"`);
  const digest = scheme.slice("hmac-".length);
  const sign = (frames: Buffer[]): string => {
    const hmac = createHmac(digest, key);
    for (const frame of frames) hmac.update(frame);
    return hmac.digest("hex");
  };
  return {
    sign,
    verify(signature, frames) {
      const expected = Buffer.from(sign(frames), "utf8");
      const given = Buffer.from(signature, "utf8");
      // timingSafeEqual needs equal lengths; a length mismatch is a mismatch.
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

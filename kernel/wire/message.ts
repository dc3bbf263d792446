/**
 * Jupyter messages (messaging protocol 5.3) and their multipart wire form:
 *
 *   [...identities, "<IDS|MSG>", signature, header, parent_header, metadata, content, ...buffers]
 *
 * The four JSON frames are what the signature covers; buffers are raw frames after content.
 */
import { randomUUID } from "crypto";
import type { Signer } from "./signer";

export const PROTOCOL_VERSION = "5.3";
export const DELIMITER = "<IDS|MSG>";

export interface MessageHeader {
  msg_id: string;
  session: string;
  username: string;
  /** ISO 8601 date. */
  date: string;
  msg_type: string;
  version: string;
  [extra: string]: unknown;
}

export interface JupyterMessage<C = Record<string, any>> {
  /** ZeroMQ routing identities of the peer (Router sockets); empty on iopub. */
  identities: Buffer[];
  header: MessageHeader;
  /** The header of the request this message answers, or {} when there is none. */
  parent_header: MessageHeader | Record<string, never>;
  metadata: Record<string, unknown>;
  content: C;
  /** Raw binary frames following content (comm messages, widget state). */
  buffers: Buffer[];
}

/** Binary data accepted for buffers when sending. */
export type BufferLike = Buffer | ArrayBuffer | ArrayBufferView;

export function createHeader(msgType: string, session: string, username = "mechlab"): MessageHeader {
  return {
    msg_id: randomUUID(),
    session,
    username,
    date: new Date().toISOString(),
    msg_type: msgType,
    version: PROTOCOL_VERSION,
  };
}

/** Makes a message; with a parent, it is a reply/side effect of it and goes back to its identities. */
export function createMessage<C>(
  msgType: string,
  content: C,
  options: {
    session: string;
    parent?: JupyterMessage;
    metadata?: Record<string, unknown>;
    buffers?: BufferLike[];
    identities?: Buffer[];
    username?: string;
  },
): JupyterMessage<C> {
  return {
    identities: options.identities ?? options.parent?.identities ?? [],
    header: createHeader(msgType, options.session, options.username),
    parent_header: options.parent ? options.parent.header : {},
    metadata: options.metadata ?? {},
    content,
    buffers: (options.buffers ?? []).map(toBuffer),
  };
}

export function toBuffer(data: BufferLike): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** Serialises to frames; the four JSON frames are signed, buffers are not. */
export function encodeMessage(message: JupyterMessage, signer: Signer): Buffer[] {
  const json = [message.header, message.parent_header, message.metadata, message.content].map((part) =>
    Buffer.from(JSON.stringify(part ?? {}), "utf8"),
  );
  const signature = Buffer.from(signer.sign(json), "utf8");
  return [...message.identities, Buffer.from(DELIMITER, "utf8"), signature, ...json, ...message.buffers];
}

export class MessageDecodeError extends Error {
  override name = "MessageDecodeError";
}

/**
 * Parses frames into a message, verifying the signature over the four JSON frames.
 * Throws MessageDecodeError on a missing delimiter, bad signature or malformed JSON.
 */
export function decodeMessage(frames: Buffer[], signer: Signer): JupyterMessage {
  const delimiter = frames.findIndex((frame) => frame.length === DELIMITER.length && frame.toString("utf8") === DELIMITER);
  if (delimiter < 0) throw new MessageDecodeError("no <IDS|MSG> delimiter");
  if (frames.length < delimiter + 6) throw new MessageDecodeError(`too few frames (${frames.length - delimiter - 1} after the delimiter, need 5)`);
  const identities = frames.slice(0, delimiter);
  const signature = frames[delimiter + 1].toString("utf8");
  const json = frames.slice(delimiter + 2, delimiter + 6);
  if (!signer.verify(signature, json)) {
    throw new MessageDecodeError(signature.length === 0 ? "missing signature" : "bad signature");
  }
  const [header, parent, metadata, content] = json.map((frame, i) => {
    try {
      return JSON.parse(frame.toString("utf8"));
    } catch {
      throw new MessageDecodeError(`frame ${["header", "parent_header", "metadata", "content"][i]} is not JSON`);
    }
  });
  if (typeof header !== "object" || header === null || typeof header.msg_type !== "string") {
    throw new MessageDecodeError("header has no msg_type");
  }
  return {
    identities,
    header,
    parent_header: parent ?? {},
    metadata: metadata ?? {},
    content: content ?? {},
    buffers: frames.slice(delimiter + 6),
  };
}

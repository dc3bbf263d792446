/**
 * The connection file Jupyter writes for a kernel (`-f <file>`): where to bind and how to sign.
 */
import { readFileSync } from "fs";

export interface ConnectionInfo {
  transport: "tcp" | "ipc";
  ip: string;
  shell_port: number;
  control_port: number;
  iopub_port: number;
  stdin_port: number;
  hb_port: number;
  key: string;
  signature_scheme: "hmac-sha256";
  kernel_name?: string;
}

export type Channel = "shell" | "control" | "iopub" | "stdin" | "hb";
export const CHANNELS: Channel[] = ["shell", "control", "iopub", "stdin", "hb"];

export class ConnectionFileError extends Error {
  override name = "ConnectionFileError";
}

/** Reads and validates a connection file; errors name the file and the offending field. */
export function readConnectionFile(path: string): ConnectionInfo {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConnectionFileError(`cannot read connection file ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConnectionFileError(`connection file ${path} is not JSON: ${(error as Error).message}`);
  }
  return parseConnectionInfo(raw, path);
}

export function parseConnectionInfo(raw: unknown, source = "connection info"): ConnectionInfo {
  const fail = (what: string): never => {
    throw new ConnectionFileError(`${source}: ${what}`);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("expected a JSON object");
  const obj = raw as Record<string, unknown>;
  const transport = obj.transport ?? "tcp";
  if (transport !== "tcp" && transport !== "ipc") fail(`transport must be "tcp" or "ipc", got ${JSON.stringify(transport)}`);
  const ip = obj.ip ?? "127.0.0.1";
  if (typeof ip !== "string" || ip === "") fail(`ip must be a non-empty string, got ${JSON.stringify(obj.ip)}`);
  const port = (name: string): number => {
    const value = obj[name];
    if (transport === "ipc") {
      // With ipc the "port" is a suffix of the socket path: any non-negative integer.
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0) fail(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
      return value as number;
    }
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
      fail(`${name} must be a port number 1–65535, got ${JSON.stringify(value)}`);
    }
    return value as number;
  };
  const key = obj.key ?? "";
  if (typeof key !== "string") fail(`key must be a string, got ${typeof key}`);
  const scheme = obj.signature_scheme ?? "hmac-sha256";
  if (scheme !== "hmac-sha256") fail(`signature_scheme must be "hmac-sha256", got ${JSON.stringify(scheme)}`);
  const info: ConnectionInfo = {
    transport: transport as "tcp" | "ipc",
    ip: ip as string,
    shell_port: port("shell_port"),
    control_port: port("control_port"),
    iopub_port: port("iopub_port"),
    stdin_port: port("stdin_port"),
    hb_port: port("hb_port"),
    key: key as string,
    signature_scheme: "hmac-sha256",
  };
  if (typeof obj.kernel_name === "string") info.kernel_name = obj.kernel_name;
  return info;
}

/** The endpoint a channel binds to: tcp://ip:port, or ipc://ip-port (Jupyter's ipc naming). */
export function endpoint(info: ConnectionInfo, channel: Channel): string {
  const port = info[`${channel}_port`];
  return info.transport === "tcp" ? `tcp://${info.ip}:${port}` : `ipc://${info.ip}-${port}`;
}

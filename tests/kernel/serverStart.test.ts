/** The server in this process: what it publishes at boot, and closing frees its ports. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { KernelServer } from "../../kernel/server";
import { newConnectionInfo } from "./protocolClient";
import { createStubEngine } from "./stubEngine";

const quiet = () => undefined;

describe("KernelServer.start", () => {
  afterEach(() => vi.restoreAllMocks());

  it("publishes status starting exactly once, first, without a parent", async () => {
    const publish = vi.spyOn(KernelServer.prototype, "publish");
    const connection = await newConnectionInfo();
    const server = await KernelServer.start({ connection, engine: createStubEngine(), kernelInfo: () => ({}), log: quiet, handleSigint: false });
    try {
      expect(publish.mock.calls[0][0]).toBe("status");
      expect(publish.mock.calls[0][1]).toEqual({ execution_state: "starting" });
      expect(publish.mock.calls[0][2]?.parent).toBeUndefined();
      expect(publish.mock.calls.filter((call) => call[1].execution_state === "starting")).toHaveLength(1);
    } finally {
      await server.shutdown();
    }
    expect(await server.closed).toEqual({ restart: false });
  });

  it("gives its plug-in factories the services, and frees the ports on shutdown", async () => {
    const connection = await newConnectionInfo();
    let services: unknown;
    const engine = createStubEngine();
    const first = await KernelServer.start({
      connection,
      engine: (s) => ((services = s), engine),
      kernelInfo: () => ({}),
      log: quiet,
      handleSigint: false,
    });
    expect(services).toBe(first);
    expect(first.session).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.currentCell()).toBeUndefined();
    await expect(KernelServer.start({ connection, engine, kernelInfo: () => ({}), log: quiet, handleSigint: false })).rejects.toThrow(/in use/);
    await first.shutdown(true);
    expect(await first.closed).toEqual({ restart: true });
    const second = await KernelServer.start({ connection, engine, kernelInfo: () => ({}), log: quiet, handleSigint: false });
    await second.shutdown();
  });
});

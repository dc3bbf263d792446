/**
 * Debian's jupyter_kernel_test suite (python3-jupyter-kernel-test) against the mechlab kernel,
 * with every test it has enabled (tests/kernel/jupyter_kernel_test_mechlab.py sets every sample).
 * The kernelspec is installed with `mechlab install --prefix` into a temporary folder that
 * JUPYTER_PATH points at; the suite runs with /usr/bin/python3 -m unittest. Passing means: every
 * test the suite defines ran, none was skipped (a sample left empty skips its test), none failed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PYTHON, jupyterSandbox, mechlab, requireDebianJupyter, runCommand, type JupyterSandbox } from "./jupyterSetup";

let sandbox: JupyterSandbox;
let prefix: string;

beforeAll(async () => {
  requireDebianJupyter();
  sandbox = jupyterSandbox();
  prefix = mkdtempSync(join(tmpdir(), "mechlab-conformance-"));
  const installed = await mechlab(["install", "--prefix", prefix], { env: sandbox.env });
  expect(installed.status, installed.stderr).toBe(0);
});

afterAll(() => {
  sandbox?.dispose();
  if (prefix) rmSync(prefix, { recursive: true, force: true });
});

describe("jupyter_kernel_test against the mechlab kernel", () => {
  it("runs every test of the suite; none skipped, none failed", async () => {
    // The suite's own list of tests, so a newer suite's additions are demanded too.
    const listed = await runCommand(PYTHON, [
      "-c",
      "import jupyter_kernel_test as j; print(' '.join(sorted(n for n in dir(j.KernelTests) if n.startswith('test_'))))",
    ]);
    expect(listed.status, listed.stderr).toBe(0);
    const expected = listed.stdout.trim().split(/\s+/);
    expect(expected.length).toBeGreaterThanOrEqual(12);

    const kernelLog = join(prefix, "kernel.log");
    const result = await runCommand(PYTHON, ["-m", "unittest", "-v", "jupyter_kernel_test_mechlab"], {
      cwd: __dirname,
      env: { ...sandbox.env, JUPYTER_PATH: join(prefix, "share", "jupyter"), MECHLAB_KERNEL_LOG: kernelLog },
      timeoutMs: 600_000,
    });
    const log = existsSync(kernelLog) ? readFileSync(kernelLog, "utf8").split("\n").slice(-60).join("\n") : "";
    const report = `${result.stderr}\n--- kernel log (last lines) ---\n${log}`;
    const output = result.stderr;
    const ran = /^Ran (\d+) tests? in [\d.]+s$/m.exec(output);
    expect(ran, report).not.toBeNull();
    expect(Number(ran![1]), report).toBe(expected.length);
    for (const name of expected) {
      expect(output, `${name} did not pass\n${report}`).toMatch(new RegExp(`^${name} \\(.*\\) \\.\\.\\. ok$`, "m"));
    }
    expect(output, `a test or subtest was skipped\n${report}`).not.toMatch(/skipped/);
    expect(output, report).toMatch(/^OK$/m);
    expect(result.status, report).toBe(0);
  });
});

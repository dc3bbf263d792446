/**
 * The kernel process with the stub engine and the real comm manager, for the wire-layer tests:
 *   node --import tsx tests/kernel/stubKernel.ts -f <connection_file>
 * It runs through runKernel, the product's process lifecycle (SIGTERM, exit codes, logging).
 */
import { CommManager } from "../../kernel/comms";
import { parseConnectionFileArg, runKernel } from "../../kernel/main";
import { createStubEngine } from "./stubEngine";

const file = parseConnectionFileArg(process.argv.slice(2));
if (!file) {
  process.stderr.write("usage: stubKernel.ts -f <connection_file>\n");
  process.exit(2);
}
void runKernel(file, {
  engine: createStubEngine(),
  comms: (services) => {
    const manager = CommManager.fromServices(services);
    // An echo target: answers every comm_msg with its data, buffers in reverse order.
    manager.registerTarget("test.echo", (comm) => {
      comm.onMsg((data, buffers) => comm.send({ echo: data }, { buffers: buffers.slice().reverse() }));
    });
    return manager.handler;
  },
});

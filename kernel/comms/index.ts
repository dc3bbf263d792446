/** The kernel's comms: the registry the library uses and the handler the server feeds. */
export { CommManager, type CommTransport, type CommOpenHandler } from "./commManager";
export { KernelComm } from "./kernelComm";
export { framesToDataViews, toFrames } from "./frames";

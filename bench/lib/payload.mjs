// The output the throughput benchmarks push through: BYTES of 80-byte text lines, like a chatty
// tool's log, generated inside the container so the host does not pay for producing it.
export const LINE = "eksbox throughput test line 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJK";

export function payloadCommand(bytes) {
  return ["/bin/sh", "-c", `yes '${LINE}' | head -c ${bytes}`];
}

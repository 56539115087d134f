import { setFlagsFromString } from "node:v8"

/**
 * Keeps the gateway's compiled code through the collection V8 runs when the process turns idle.
 *
 * V8's memory reducer collects the heap a few seconds after the allocation rate drops. By default
 * it runs that collection in "reduce memory" mode, which also throws away the bytecode, and with it
 * the optimised code, of every function not running at that moment: when traffic pauses, that is
 * the whole request path. The next burst then runs in the interpreter while V8 compiles it all
 * again, which on the AI path takes some 35,000 requests, the compiler's thread sharing the core
 * with the requests. Measured on the streamed AI path after 15 s without traffic, the first 2 s of
 * the next load: 1,414, 2,302 and 2,960 req/s with the default, 2,941, 4,172 and 3,492 without it.
 *
 * The idle collection still runs and frees the garbage; only the code survives it. What that code
 * holds shows after the first pause (RSS 124 MiB instead of 106); after later ones the two were
 * within 1 MiB (123–125 MiB).
 */
export const keepCompiledCodeWhenIdle = (): void => setFlagsFromString("--no-memory-reducer-favors-memory")

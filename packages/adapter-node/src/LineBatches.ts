import { write as fsWrite, writeSync as fsWriteSync } from "node:fs"

/**
 * Log lines written to a file descriptor in batches: the lines wait in memory and leave in one
 * asynchronous write once `batchBytes` have gathered or `flushMs` passed, and synchronously when
 * the process exits.
 *
 * Why not pino's own destination (sonic-boom): it appends each line to one growing string and
 * measures that string's byte length on every line, which flattens it each time: with the access
 * log's line per request, the copying cost more than the writing. Here a line costs an array push.
 *
 * Behind a reader slower than the server (a stalled pipe), lines beyond `maxPendingBytes` are
 * dropped rather than held in memory without bound. A closed descriptor loses its lines, never the
 * process.
 */
export interface LineBatches {
  readonly write: (line: string) => void
  /** Writes what is pending now, synchronously (at exit). */
  readonly flushSync: () => void
  /** Stops the timer. */
  readonly close: () => void
}

/** How the batches reach the descriptor; `node:fs` by default, replaced in tests. */
export interface Writer {
  readonly write: (
    fd: number,
    data: Uint8Array,
    done: (error: NodeJS.ErrnoException | null, written: number) => void
  ) => void
  readonly writeSync: (fd: number, data: Uint8Array) => number
}

const nodeWriter: Writer = {
  write: (fd, data, done) => fsWrite(fd, data, 0, data.length, null, done),
  writeSync: (fd, data) => fsWriteSync(fd, data)
}

// A pipe whose reader is slow answers EAGAIN when it is non-blocking: try again a little later.
const retryMs = 10
const syncRetries = 1_000

export const make = (options: {
  readonly fd: number
  readonly batchBytes: number
  readonly maxPendingBytes: number
  readonly flushMs: number
  readonly writer?: Writer
}): LineBatches => {
  const writer = options.writer ?? nodeWriter
  let lines: Array<string> = []
  // Characters, not bytes: a bound on memory, where one is as good as the other.
  let pendingChars = 0
  // The part of a batch the descriptor has not taken yet (a partial write or EAGAIN).
  let carry: Uint8Array | undefined
  let writing = false
  let retry: ReturnType<typeof setTimeout> | undefined

  const take = (): Uint8Array | undefined => {
    if (carry !== undefined) {
      const data = carry
      carry = undefined
      return data
    }
    if (lines.length === 0) return undefined
    const data = Buffer.from(lines.join(""))
    lines = []
    pendingChars = 0
    return data
  }

  const flush = () => {
    if (writing || retry !== undefined) return
    const data = take()
    if (data === undefined) return
    writing = true
    writer.write(options.fd, data, (error, written) => {
      writing = false
      if (error?.code === "EAGAIN") {
        carry = data
        retry = setTimeout(() => {
          retry = undefined
          flush()
        }, retryMs)
        retry.unref()
        return
      }
      // Another error (a closed descriptor): the batch is lost, the next one is tried.
      if (error === null && written < data.length) carry = data.subarray(written)
      if (carry !== undefined || pendingChars >= options.batchBytes) flush()
    })
  }

  const timer = setInterval(flush, options.flushMs)
  timer.unref()

  return {
    write: (line) => {
      if (pendingChars + line.length > options.maxPendingBytes) return
      lines.push(line)
      pendingChars += line.length
      if (pendingChars >= options.batchBytes) flush()
    },
    flushSync: () => {
      // A write still in flight holds its own batch; what is pending here follows it.
      let data = take()
      for (let tries = 0; data !== undefined && tries < syncRetries; tries++) {
        try {
          const written = writer.writeSync(options.fd, data)
          data = written < data.length ? data.subarray(written) : take()
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return
        }
      }
    },
    close: () => {
      clearInterval(timer)
      if (retry !== undefined) clearTimeout(retry)
    }
  }
}

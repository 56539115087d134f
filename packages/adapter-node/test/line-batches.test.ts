import { closeSync, mkdtempSync, openSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import * as LineBatches from "../src/LineBatches.ts"

/** A descriptor that records what it was given and answers as each test tells it to. */
const recorder = (answer: (data: Uint8Array, call: number) => NodeJS.ErrnoException | number | "never") => {
  const received: Array<string> = []
  let calls = 0
  const writer: LineBatches.Writer = {
    write: (_fd, data, done) => {
      const outcome = answer(data, calls++)
      if (outcome === "never") return
      if (typeof outcome === "number") received.push(Buffer.from(data.subarray(0, outcome)).toString())
      setImmediate(() => (typeof outcome === "number" ? done(null, outcome) : done(outcome, 0)))
    },
    writeSync: (_fd, data) => {
      received.push(Buffer.from(data).toString())
      return data.length
    }
  }
  return { writer, received, calls: () => calls }
}

const errno = (code: string) => Object.assign(new Error(code), { code })
const lines = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `{"line":${from + i}}\n`)
const settle = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms))

const opened: Array<LineBatches.LineBatches> = []
const make = (options: Partial<Parameters<typeof LineBatches.make>[0]>) => {
  const batches = LineBatches.make({ fd: 1, batchBytes: 1024, maxPendingBytes: 1 << 20, flushMs: 10, ...options })
  opened.push(batches)
  return batches
}
afterEach(() => {
  for (const batches of opened.splice(0)) batches.close()
})

describe("log lines in batches", () => {
  it("holds lines until a batch is full or the interval passes, then writes them in one call, in order", async () => {
    const sink = recorder((data) => data.length)
    const batches = make({ writer: sink.writer, batchBytes: 200, flushMs: 60_000 })
    const few = lines(3)
    for (const line of few) batches.write(line)
    await settle()
    expect(sink.calls()).toBe(0)
    const more = lines(20, 3)
    for (const line of more) batches.write(line)
    await settle()
    // The full batch left at once, whole lines from the first; the rest waits for the interval.
    const all = [...few, ...more].join("")
    expect(sink.calls()).toBe(1)
    expect(sink.received[0]!.length).toBeGreaterThanOrEqual(200)
    expect(all.startsWith(sink.received[0]!)).toBe(true)
    batches.flushSync()
    expect(sink.received.join("")).toBe(all)

    const timed = recorder((data) => data.length)
    const quiet = make({ writer: timed.writer, flushMs: 5 })
    quiet.write('{"alone":true}\n')
    await settle()
    expect(timed.received).toEqual(['{"alone":true}\n'])
  })

  it("keeps the order through partial writes and EAGAIN from a slow pipe", async () => {
    // First call: EAGAIN; then every call takes only half of what it is given.
    const sink = recorder((data, call) => (call === 0 ? errno("EAGAIN") : Math.ceil(data.length / 2)))
    const batches = make({ writer: sink.writer, batchBytes: 100 })
    const written = [...lines(30), ...lines(30, 30)]
    for (const line of written.slice(0, 30)) batches.write(line)
    await settle(5)
    for (const line of written.slice(30)) batches.write(line)
    await settle(200)
    expect(sink.received.join("")).toBe(written.join(""))
  })

  it("drops lines past the bound behind a reader that never takes them, and survives a closed descriptor", async () => {
    const stalled = recorder(() => "never")
    const batches = make({ writer: stalled.writer, batchBytes: 10, maxPendingBytes: 1000 })
    for (const line of lines(10_000)) batches.write(line)
    batches.flushSync()
    // The first batch is stuck in its write; what waited behind it stayed within the bound.
    expect(stalled.received.join("").length).toBeLessThanOrEqual(1000)
    expect(stalled.received.join("").length).toBeGreaterThan(900)

    const closed = recorder(() => errno("EPIPE"))
    const gone = make({ writer: closed.writer, batchBytes: 10 })
    for (const line of lines(50)) gone.write(line)
    await settle()
    expect(closed.calls()).toBeGreaterThan(1)
  })

  it("writes to a real file, the rest synchronously at exit", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "lunarbit-lines-")), "out.log")
    const fd = openSync(path, "w")
    try {
      const batches = make({ fd, batchBytes: 4096, flushMs: 60_000 })
      const first = lines(500)
      for (const line of first) batches.write(line)
      await settle(50)
      const last = lines(7, 500)
      for (const line of last) batches.write(line)
      batches.flushSync()
      expect(readFileSync(path, "utf8")).toBe([...first, ...last].join(""))
    } finally {
      closeSync(fd)
    }
  })
})

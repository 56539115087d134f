import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as AIProvider from "../../src/ai/ports/AIProvider.ts"
import * as ModelRouter from "../../src/ai/services/ModelRouter.ts"

/**
 * The router over fake providers built through the port's own `make`, on the test clock: every
 * strategy, failover, the breaker, cooling after 429, and the per-request budget, deterministically.
 */
type Behaviour =
  | "ok"
  | AIProvider.FailureKind
  | { readonly kind: AIProvider.FailureKind; readonly retryAfterMs: number }

interface Fake {
  readonly provider: AIProvider.AIProviderShape
  /** What the next calls do, in order; the last one repeats. */
  script: Array<Behaviour>
  /** Simulated time one call takes. */
  latencyMs: number
}

const calls: Array<string> = []

const fake = (name: string, options: { models?: ReadonlyArray<string>; latencyMs?: number } = {}): Fake => {
  const self: Fake = {
    script: ["ok"],
    latencyMs: options.latencyMs ?? 0,
    provider: AIProvider.make({
      name,
      defaultModel: options.models?.[0] ?? "model",
      models: Effect.succeed(options.models ?? ["model"]),
      chat: (request) =>
        Effect.suspend(() => {
          calls.push(name)
          const behaviour = self.script.length > 1 ? self.script.shift()! : self.script[0]!
          const outcome =
            behaviour === "ok"
              ? Effect.succeed({ text: `${name}:${request.model}`, model: request.model, finishReason: "stop" })
              : Effect.fail(
                  new AIProvider.ProviderFailure({
                    provider: name,
                    message: "scripted",
                    ...(typeof behaviour === "string" ? { kind: behaviour } : behaviour)
                  })
                )
          return Effect.andThen(Effect.sleep(self.latencyMs), outcome)
        }),
      stream: (request) =>
        Stream.unwrap(
          Effect.sync(() => {
            calls.push(name)
            const behaviour = self.script.length > 1 ? self.script.shift()! : self.script[0]!
            const first = Stream.fromEffect(
              Effect.as(Effect.sleep(self.latencyMs), { text: `${name}:`, model: request.model })
            )
            if (behaviour === "ok") return Stream.concat(first, Stream.make({ text: "rest" }, { finishReason: "stop" }))
            const failure = new AIProvider.ProviderFailure({ provider: name, kind: "connection", message: "cut" })
            // "incomplete" scripts a failure after the first token; anything else fails before it.
            return behaviour === "incomplete" ? Stream.concat(first, Stream.fail(failure)) : Stream.fail(failure)
          })
        )
    })
  }
  return self
}

const settings = (overrides: Partial<ModelRouter.Settings> = {}): ModelRouter.Settings => ({
  ...ModelRouter.defaultSettings,
  ...overrides
})

const ask = { messages: [{ role: "user" as const, content: "hi" }] }

/** Runs `effect` while the test clock advances by `ms`, as a request in flight would see it. */
const withTime = <A, E>(effect: Effect.Effect<A, E>, ms: number) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(effect)
    yield* TestClock.adjust(ms)
    return yield* Fiber.join(fiber)
  })

const reset = () => {
  calls.length = 0
}

describe("ModelRouter", () => {
  it.effect("priority: the first provider answers; a failure falls over to the next", () =>
    Effect.gen(function* () {
      reset()
      const a = fake("a")
      const b = fake("b")
      const router = yield* ModelRouter.make([a.provider, b.provider], settings())
      assert.strictEqual((yield* router.chat(ask)).provider, "a")
      a.script = ["server", "ok"]
      assert.strictEqual((yield* router.chat(ask)).provider, "b")
      assert.deepStrictEqual(calls, ["a", "a", "b"])
    })
  )

  it.effect("round-robin: requests alternate between providers", () =>
    Effect.gen(function* () {
      reset()
      const router = yield* ModelRouter.make(
        [fake("a").provider, fake("b").provider],
        settings({ strategy: "round-robin" })
      )
      for (let i = 0; i < 4; i++) yield* router.chat(ask)
      assert.deepStrictEqual(calls, ["a", "b", "a", "b"])
    })
  )

  it.effect("least-loaded: a request goes to the provider with the fewest requests in flight", () =>
    Effect.gen(function* () {
      reset()
      const a = fake("a", { latencyMs: 1000 })
      const b = fake("b", { latencyMs: 1000 })
      const router = yield* ModelRouter.make([a.provider, b.provider], settings({ strategy: "least-loaded" }))
      const first = yield* Effect.forkChild(router.chat(ask))
      yield* TestClock.adjust(10)
      const second = yield* Effect.forkChild(router.chat(ask))
      yield* TestClock.adjust(10)
      assert.deepStrictEqual(calls, ["a", "b"])
      yield* TestClock.adjust(1000)
      yield* Fiber.join(first)
      yield* Fiber.join(second)
      // Both idle again: the tie goes to priority order.
      yield* withTime(router.chat(ask), 1000)
      assert.deepStrictEqual(calls, ["a", "b", "a"])
    })
  )

  it.effect("fastest: measures each provider once, then prefers the lower moving average", () =>
    Effect.gen(function* () {
      reset()
      const slow = fake("slow", { latencyMs: 300 })
      const quick = fake("quick", { latencyMs: 100 })
      const router = yield* ModelRouter.make([slow.provider, quick.provider], settings({ strategy: "fastest" }))
      for (let i = 0; i < 4; i++) yield* withTime(router.chat(ask), 300)
      assert.deepStrictEqual(calls, ["slow", "quick", "quick", "quick"])
      // The quick one slows down: its average rises past the other's within a few requests.
      quick.latencyMs = 900
      for (let i = 0; i < 4; i++) yield* withTime(router.chat(ask), 900)
      // 100 -> 260 -> 388 (a fifth of each new sample): past the other's 300 on the second slow answer.
      assert.deepStrictEqual(calls.slice(4), ["quick", "quick", "slow", "slow"])
    })
  )

  it.effect("fastest: streams are ranked by time to first token", () =>
    Effect.gen(function* () {
      reset()
      const slow = fake("slow", { latencyMs: 500 })
      const quick = fake("quick", { latencyMs: 50 })
      const router = yield* ModelRouter.make([slow.provider, quick.provider], settings({ strategy: "fastest" }))
      const open = Effect.scoped(Effect.flatMap(router.stream(ask), (opened) => Effect.succeed(opened.provider)))
      const served: Array<string> = []
      for (let i = 0; i < 3; i++) served.push(yield* withTime(open, 500))
      assert.deepStrictEqual(served, ["slow", "quick", "quick"])
    })
  )

  it.effect("circuit breaker: opens after consecutive faults, lets one trial through after the cooldown", () =>
    Effect.gen(function* () {
      reset()
      const a = fake("a")
      const b = fake("b")
      a.script = ["server"]
      const router = yield* ModelRouter.make(
        [a.provider, b.provider],
        settings({ breaker: { failureThreshold: 2, cooldownMs: 10_000, defaultRetryAfterMs: 1000 } })
      )
      yield* router.chat(ask)
      yield* router.chat(ask)
      assert.deepStrictEqual(calls, ["a", "b", "a", "b"])
      // Open: a is not called at all.
      yield* router.chat(ask)
      assert.deepStrictEqual(calls.slice(4), ["b"])
      assert.strictEqual((yield* router.status).providers[0]!.circuit, "open")
      // Half-open after the cooldown: one trial, which fails and reopens the circuit.
      yield* TestClock.adjust(10_000)
      yield* router.chat(ask)
      yield* router.chat(ask)
      assert.deepStrictEqual(calls.slice(5), ["a", "b", "b"])
      // A successful trial closes it.
      a.script = ["ok"]
      yield* TestClock.adjust(10_000)
      assert.strictEqual((yield* router.chat(ask)).provider, "a")
      assert.strictEqual((yield* router.chat(ask)).provider, "a")
      assert.strictEqual((yield* router.status).providers[0]!.circuit, "closed")
    })
  )

  it.effect("429: Retry-After cools the provider down for that long, without opening its circuit", () =>
    Effect.gen(function* () {
      reset()
      const a = fake("a")
      const b = fake("b")
      a.script = [{ kind: "rate_limited", retryAfterMs: 5000 }, "ok"]
      const router = yield* ModelRouter.make([a.provider, b.provider], settings())
      assert.strictEqual((yield* router.chat(ask)).provider, "b")
      assert.strictEqual((yield* router.chat(ask)).provider, "b")
      yield* TestClock.adjust(4999)
      assert.strictEqual((yield* router.chat(ask)).provider, "b")
      yield* TestClock.adjust(1)
      assert.strictEqual((yield* router.chat(ask)).provider, "a")
      assert.deepStrictEqual(calls, ["a", "b", "b", "b", "a"])
    })
  )

  it.effect("429 everywhere: AI_UNAVAILABLE with the earliest retry_after", () =>
    Effect.gen(function* () {
      const a = fake("a")
      const b = fake("b")
      a.script = [{ kind: "rate_limited", retryAfterMs: 30_000 }]
      b.script = [{ kind: "rate_limited", retryAfterMs: 12_000 }]
      const router = yield* ModelRouter.make([a.provider, b.provider], settings())
      const error = yield* Effect.flip(router.chat(ask))
      assert.strictEqual(error.code, "AI_UNAVAILABLE")
      assert.strictEqual(error.details?.retry_after, 12)
    })
  )

  it.effect("budget: retries and fallbacks share one attempt count, so upstream calls never multiply", () =>
    Effect.gen(function* () {
      reset()
      const a = fake("a")
      const b = fake("b")
      const c = fake("c")
      for (const f of [a, b, c]) f.script = ["server"]
      const router = yield* ModelRouter.make([a.provider, b.provider, c.provider], settings({ maxAttempts: 4 }))
      const error = yield* Effect.flip(withTime(router.chat(ask), 1000))
      assert.strictEqual(error.code, "AI_UPSTREAM_ERROR")
      // Every provider once, then a second round after a pause, stopping at four calls in all.
      assert.deepStrictEqual(calls, ["a", "b", "c", "a"])
    })
  )

  it.effect("budget: the deadline bounds the whole request, attempts included", () =>
    Effect.gen(function* () {
      reset()
      const a = fake("a", { latencyMs: 50_000 })
      const router = yield* ModelRouter.make([a.provider], settings({ deadlineMs: 2000, maxAttempts: 5 }))
      const error = yield* Effect.flip(withTime(router.chat(ask), 2000))
      assert.strictEqual(error.code, "AI_TIMEOUT")
      assert.deepStrictEqual(calls, ["a"])
    })
  )

  it.effect("a request the provider refuses is not retried anywhere", () =>
    Effect.gen(function* () {
      reset()
      const a = fake("a")
      a.script = ["rejected"]
      const router = yield* ModelRouter.make([a.provider, fake("b").provider], settings())
      const error = yield* Effect.flip(router.chat(ask))
      assert.strictEqual(error.code, "AI_REQUEST_REJECTED")
      assert.deepStrictEqual(calls, ["a"])
    })
  )

  it.effect("models: a request goes only to providers serving its model", () =>
    Effect.gen(function* () {
      reset()
      const a = fake("a", { models: ["m1"] })
      const b = fake("b", { models: ["m2", "m3"] })
      const router = yield* ModelRouter.make([a.provider, b.provider], settings())
      assert.strictEqual((yield* router.chat({ ...ask, model: "m3" })).text, "b:m3")
      assert.strictEqual((yield* router.chat(ask)).text, "a:m1")
      const missing = yield* Effect.flip(router.chat({ ...ask, model: "m9" }))
      assert.strictEqual(missing.code, "MODEL_NOT_AVAILABLE")
      assert.deepStrictEqual(missing.details?.available_models, ["m1", "m2", "m3"])
      assert.deepStrictEqual(calls, ["b", "a"])
    })
  )

  it.effect("models: every provider answering 404 for the model is MODEL_NOT_AVAILABLE, each asked once", () =>
    Effect.gen(function* () {
      reset()
      const a = fake("a")
      const b = fake("b")
      a.script = ["not_found"]
      b.script = ["not_found"]
      const router = yield* ModelRouter.make([a.provider, b.provider], settings())
      assert.strictEqual((yield* Effect.flip(router.chat(ask))).code, "MODEL_NOT_AVAILABLE")
      assert.deepStrictEqual(calls, ["a", "b"])
    })
  )

  it.effect("without providers: AI_NOT_CONFIGURED and a disabled status", () =>
    Effect.gen(function* () {
      const router = yield* ModelRouter.make([], settings())
      assert.strictEqual((yield* Effect.flip(router.chat(ask))).code, "AI_NOT_CONFIGURED")
      assert.deepStrictEqual(yield* router.status, { enabled: false, strategy: "priority", providers: [], models: [] })
    })
  )

  describe("streams", () => {
    const collect = (opened: ModelRouter.OpenedStream) =>
      Effect.map(Stream.runCollect(Stream.concat(Stream.fromIterable(opened.head), opened.rest)), (events) =>
        events.map((e) => (e._tag === "Delta" ? e.text : `<done:${e.finishReason}>`)).join("")
      )

    it.effect("fail over until the first token", () =>
      Effect.gen(function* () {
        reset()
        const a = fake("a")
        a.script = ["connection"]
        const router = yield* ModelRouter.make([a.provider, fake("b").provider], settings())
        const text = yield* Effect.scoped(Effect.flatMap(router.stream(ask), collect))
        assert.strictEqual(text, "b:rest<done:stop>")
        assert.deepStrictEqual(calls, ["a", "b"])
      })
    )

    it.effect("do not fail over after the first token: the failure reaches the caller", () =>
      Effect.gen(function* () {
        reset()
        const a = fake("a")
        a.script = ["incomplete"]
        const router = yield* ModelRouter.make([a.provider, fake("b").provider], settings())
        const failure = yield* Effect.scoped(
          Effect.flatMap(router.stream(ask), (opened) => Effect.flip(collect(opened)))
        )
        assert.strictEqual(failure._tag, "ProviderFailure")
        assert.deepStrictEqual(calls, ["a"])
      })
    )

    it.effect("a first token slower than the limit fails over to the next provider", () =>
      Effect.gen(function* () {
        reset()
        const slow = fake("slow", { latencyMs: 20_000 })
        const router = yield* ModelRouter.make(
          [slow.provider, fake("b").provider],
          settings({ firstTokenTimeoutMs: 5000 })
        )
        const opened = yield* withTime(Effect.scoped(Effect.map(router.stream(ask), (o) => o.provider)), 5000)
        assert.strictEqual(opened, "b")
        assert.deepStrictEqual(calls, ["slow", "b"])
      })
    )
  })
})

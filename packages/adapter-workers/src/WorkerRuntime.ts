import { Edge } from "@lunarbit/gateway-core"
import { Context, Logger, References, Scheduler } from "effect"
import * as JsonConsoleLog from "./JsonConsoleLog.ts"

/**
 * What every fiber of a Worker runs with, given both to the gateway's layers and to each request:
 * the sync scheduler, because Workers may discard timers a request owns, leaving fibers shared
 * between requests suspended (see `HttpRouter.toWebHandler`); and the JSON console logs.
 */
export const context = (logLevel: JsonConsoleLog.Level) =>
  Context.make(Scheduler.Scheduler, new Scheduler.MixedScheduler("sync")).pipe(
    Context.add(Edge.AccessLog, JsonConsoleLog.accessLog(logLevel)),
    Context.add(Logger.CurrentLoggers, new Set([JsonConsoleLog.logger])),
    Context.add(References.MinimumLogLevel, JsonConsoleLog.minimumLogLevel[logLevel])
  )

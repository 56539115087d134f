import { setFlagsFromString } from "node:v8"

/**
 * Keeps the request path's objects in the young generation, where a request's garbage costs almost
 * nothing to collect.
 *
 * V8 watches where objects are allocated and, when most of one site's objects survive a young
 * collection, allocates that site's objects straight in the old generation from then on
 * ("pretenuring"). A server's request objects outlive a young collection only while they are in
 * flight, so a moment with many requests in flight (a burst, a pause of the process, a slow
 * upstream) can get the request path's sites pretenured for good. Each request's objects then land
 * in the old generation, and what they point to survives the young collections until the next full
 * one, so nearly everything a request allocates is promoted. Measured on the streamed AI path:
 * such a process promoted 458 MB in 8 s where another promoted 27 MB, ran a full collection every
 * 110 ms, and spent 230–310 µs of CPU a request where the others spent 110–160; it stayed that
 * way. Of identical gateway processes measured together, 2 of 3 and 4 of 4 fell into it in two runs;
 * with pretenuring off, none of 20.
 */
export const keepRequestObjectsYoung = (): void => setFlagsFromString("--no-allocation-site-pretenuring")

/**
 * Memos for the request path, which computes the same few things again and again (a path to
 * redact, a body to hash, a query to decode). The memory is bounded: past `max` entries a memo
 * starts over, so hostile input that never repeats costs one computation each and no more memory.
 */

/** A bounded cache by string key: `remember(key, compute)` computes only for keys not held (`undefined` is held too). */
export const boundedCache = <A>(max = 1_000) => {
  const held = new Map<string, A>()
  return (key: string, compute: () => A): A => {
    const known = held.get(key)
    if (known !== undefined || held.has(key)) return known as A
    const computed = compute()
    if (held.size >= max) held.clear()
    held.set(key, computed)
    return computed
  }
}

/** `f` remembered for the last inputs seen, for pure functions of strings. */
export const boundedMemo = <A>(f: (input: string) => A, max = 1_000): ((input: string) => A) => {
  const remember = boundedCache<A>(max)
  return (input) => remember(input, () => f(input))
}

/**
 * `f` remembered for the last inputs seen, for pure functions of strings that the request path calls
 * with the same few values again and again (a path to redact, a body to hash). The memory is
 * bounded: past `max` entries it starts over, so hostile input that never repeats costs one call
 * each and no more memory.
 */
export const boundedMemo = <A>(f: (input: string) => A, max = 1_000): ((input: string) => A) => {
  const remembered = new Map<string, A>()
  return (input) => {
    const known = remembered.get(input)
    if (known !== undefined) return known
    const computed = f(input)
    if (remembered.size >= max) remembered.clear()
    remembered.set(input, computed)
    return computed
  }
}

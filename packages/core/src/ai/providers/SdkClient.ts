/**
 * An SDK client made on its first use, its module imported then. Each vendor's SDK is about 0.7 MB
 * of code that, imported up front, is loaded and evaluated at start and held for the life of the
 * process: a gateway without AI providers, or without that vendor, never needs it.
 */
export const onFirstUse = <A>(make: () => Promise<A>): (() => Promise<A>) => {
  let made: Promise<A> | undefined
  return () => {
    made ??= make()
    return made
  }
}

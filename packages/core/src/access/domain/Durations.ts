/**
 * Durations as the key API writes them: a whole number and a unit, `15m`, `12h`, `30d`, `2w`, `1y`.
 */
const units: Record<string, number> = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000
}

const pattern = /^([1-9]\d{0,5})([mhdwy])$/

/** Milliseconds, or `undefined` when `text` is not a duration. */
export const parse = (text: string): number | undefined => {
  const match = pattern.exec(text)
  if (match === null) return undefined
  return Number(match[1]) * units[match[2]!]!
}

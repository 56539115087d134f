import { assert, describe, it } from "@effect/vitest"
import { paginate } from "../src/releases/http/Present.ts"

const items = Array.from({ length: 45 }, (_, i) => i + 1)
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe("Present.paginate", () => {
  it.each([
    { name: "the first page", page: 1, perPage: 20, expected: range(1, 20) },
    { name: "a middle page", page: 2, perPage: 20, expected: range(21, 40) },
    { name: "the last, partial page", page: 3, perPage: 20, expected: range(41, 45) },
    { name: "a page just past the end", page: 4, perPage: 20, expected: [] },
    { name: "a page far past the end", page: 1000, perPage: 20, expected: [] },
    { name: "per_page 1, first page", page: 1, perPage: 1, expected: [1] },
    { name: "per_page 1, last page", page: 45, perPage: 1, expected: [45] },
    { name: "per_page 1, past the end", page: 46, perPage: 1, expected: [] },
    { name: "per_page 100, everything on one page", page: 1, perPage: 100, expected: range(1, 45) },
    { name: "per_page 100, second page", page: 2, perPage: 100, expected: [] },
    { name: "per_page equal to the total", page: 1, perPage: 45, expected: range(1, 45) },
    { name: "per_page equal to the total, second page", page: 2, perPage: 45, expected: [] }
  ])("$name (page $page, per_page $perPage)", ({ page, perPage, expected }) => {
    assert.deepStrictEqual(paginate(items, page, perPage), { items: expected, total: 45, page, per_page: perPage })
  })

  it("gives an empty first page with total 0 for an empty list", () => {
    assert.deepStrictEqual(paginate([], 1, 20), { items: [], total: 0, page: 1, per_page: 20 })
  })

  it("covers every item exactly once across consecutive pages", () => {
    for (const perPage of [1, 7, 20, 100]) {
      const pages = Math.ceil(items.length / perPage)
      const seen = range(1, pages).flatMap((page) => paginate(items, page, perPage).items)
      assert.deepStrictEqual(seen, items, `per_page ${perPage}`)
    }
  })

  it("leaves the input list untouched", () => {
    const input = ["a", "b", "c"]
    paginate(input, 1, 2)
    assert.deepStrictEqual(input, ["a", "b", "c"])
  })
})

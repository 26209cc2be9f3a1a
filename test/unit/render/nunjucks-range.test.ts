// range() in templates: nunjucks' own meaning, with a ceiling instead of a hang.
import fc from "fast-check";
import nunjucks from "nunjucks";
import { describe, expect, it } from "vitest";
import { boundedRange, MAX_RANGE_ITEMS } from "../../../src/render/nunjucks-env.js";

const nunjucksRange = new nunjucks.Environment().getGlobal("range") as (start: number, stop?: number, step?: number) => number[];

describe("range() in templates", () => {
  it("gives what nunjucks' range gives, for one, two or three arguments", () => {
    const small = fc.integer({ min: -50, max: 50 });
    fc.assert(
      fc.property(
        small,
        fc.option(small, { nil: undefined }),
        fc.option(fc.integer({ min: -7, max: 7 }), { nil: undefined }),
        (start, stop, step) => {
          const args = stop === undefined ? [start] : step === undefined ? [start, stop] : [start, stop, step];
          expect(boundedRange(...(args as [number, number?, number?]))).toEqual(nunjucksRange(...(args as [number, number?, number?])));
        },
      ),
    );
  });

  it("refuses more than the ceiling, and endless ranges, without building them", () => {
    expect(boundedRange(MAX_RANGE_ITEMS)).toHaveLength(MAX_RANGE_ITEMS);
    expect(() => boundedRange(MAX_RANGE_ITEMS + 1)).toThrow(`makes ${MAX_RANGE_ITEMS + 1} items`);
    expect(() => boundedRange(0, 1e15, 1)).toThrow("more than the");
    expect(() => boundedRange(0, Infinity)).toThrow("endless");
  });
});

import { describe, expect, it } from "vitest";
import { counterOfRate, errorsFromGood, isSum, rateOfCounter, seriesSelector, withWindowPlaceholder } from "./queries.ts";

describe("seriesSelector", () => {
  it("reads a metric name alone or with its matchers as written", () => {
    expect(seriesSelector("up")).toEqual({ metric: "up", matchers: "" });
    expect(seriesSelector(' http_requests_total{job="api", code=~"5.."} ')).toEqual({ metric: "http_requests_total", matchers: '{job="api", code=~"5.."}' });
    // A brace or comma inside a quoted value is no end of the selector.
    expect(seriesSelector('x{path="/a{b},c"}')).toEqual({ metric: "x", matchers: '{path="/a{b},c"}' });
  });

  it.each(['rate(x[5m])', 'x{a="b"}[5m]', "x + y", 'x{a="b"} or y{c="d"}', 'x{a="b"} offset 5m', "sum(x)"])("is not a selector: %s", (q) => {
    expect(seriesSelector(q)).toBeUndefined();
  });
});

describe("counters and rates", () => {
  it("takes the rate of a counter over {{window}}, given as a selector or its sum", () => {
    expect(rateOfCounter('http_requests_total{job="api"}')).toBe('sum(rate(http_requests_total{job="api"}[{{window}}]))');
    expect(rateOfCounter('sum( http_requests_total{job="api"} )')).toBe('sum(rate(http_requests_total{job="api"}[{{window}}]))');
  });

  it.each(["sum by (code) (x)", "sum(x) + sum(y)", "increase(x[1h])", "sum(rate(x[5m]))"])("has no counter to take the rate of in %s", (q) => {
    expect(rateOfCounter(q)).toBeUndefined();
  });

  it("gives back the counter of exactly the rate rateOfCounter writes, so both directions agree", () => {
    const rate = 'sum(rate(x_total{a="b"}[{{window}}]))';
    expect(counterOfRate(rate)).toBe('sum(x_total{a="b"})');
    expect(rateOfCounter(counterOfRate(rate) ?? "")).toBe(rate);
  });

  it.each(["sum(rate(x[5m]))", "sum(increase(x[{{window}}]))", "sum(rate(x[{{window}}])) / 2", "sum(rate(x[{{window}}]) * 2)", "sum (rate(x[{{window}}]))"])(
    "keeps %s as written: it is not sum(rate(<selector>[{{window}}]))",
    (q) => {
      expect(counterOfRate(q)).toBeUndefined();
    },
  );
});

describe("isSum and errorsFromGood", () => {
  it("tells one sum(...) as a whole from a sum followed by more", () => {
    expect(isSum("sum(rate(x[5m]))")).toBe(true);
    expect(isSum('sum(x{a=")"})')).toBe(true);
    expect(isSum("sum(a) - sum(b)")).toBe(false);
    expect(isSum("rate(x[5m])")).toBe(false);
  });

  it("counts bad events as all events less good ones, good ones zero when they have no series", () => {
    expect(errorsFromGood("sum(rate(good[{{window}}]))", "sum(rate(all[{{window}}]))")).toBe("sum(rate(all[{{window}}])) - (sum(rate(good[{{window}}])) or vector(0))");
    expect(errorsFromGood("rate(good[{{window}}])", "rate(all[{{window}}])")).toBe("sum(rate(all[{{window}}])) - (sum(rate(good[{{window}}])) or vector(0))");
  });
});

describe("withWindowPlaceholder", () => {
  it("spells Sloth's {{.window}}, with or without spaces, as {{window}}", () => {
    expect(withWindowPlaceholder("sum(rate(x[{{.window}}])) / sum(rate(y[{{ .window }}]))")).toBe("sum(rate(x[{{window}}])) / sum(rate(y[{{window}}]))");
    expect(withWindowPlaceholder("sum(rate(x[{{window}}]))")).toBe("sum(rate(x[{{window}}]))");
  });

  it("says when a query has no window at all", () => {
    expect(withWindowPlaceholder("sum(rate(x[5m]))")).toBeUndefined();
  });
});

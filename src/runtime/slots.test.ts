import { describe, expect, it } from "vitest";
import { Slots } from "./slots.ts";

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("Slots", () => {
  it("lets `size` holders in at once and the next in order as each gives its slot back", async () => {
    const slots = new Slots(2);
    const a = await slots.take();
    const b = await slots.take();
    const order: string[] = [];
    const c = slots.take().then((give) => (order.push("c"), give));
    const d = slots.take().then((give) => (order.push("d"), give));
    await tick();
    expect(order).toEqual([]);
    a?.();
    a?.(); // giving back twice frees one slot, not two
    await tick();
    expect(order).toEqual(["c"]);
    b?.();
    await tick();
    expect(order).toEqual(["c", "d"]);
    (await c)?.();
    (await d)?.();
    expect(await slots.take()).toBeTypeOf("function");
  });

  it("hands a free slot over at once, and none while others wait", async () => {
    const slots = new Slots(1);
    const first = slots.tryTake();
    expect(first).toBeTypeOf("function");
    expect(slots.tryTake()).toBeUndefined();
    const waiting = slots.take();
    first?.();
    // The slot went to the waiter, not to whoever asks next.
    expect(slots.tryTake()).toBeUndefined();
    (await waiting)?.();
    expect(slots.tryTake()).toBeTypeOf("function");
  });

  it("gives up waiting when the waiter's signal aborts, and never hands it a slot", async () => {
    const slots = new Slots(1);
    const held = await slots.take();
    const abort = new AbortController();
    const waiting = slots.take(abort.signal);
    abort.abort();
    expect(await waiting).toBeUndefined();
    held?.();
    // The slot went back to the pool, not to the waiter that left.
    expect(await slots.take(AbortSignal.timeout(1_000))).toBeTypeOf("function");
    expect(await slots.take(AbortSignal.abort())).toBeUndefined();
  });
});

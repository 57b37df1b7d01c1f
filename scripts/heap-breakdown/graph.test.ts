import { describe, expect, it } from "vitest";
import { dominators, parseSnapshot } from "./graph.ts";

/** A snapshot of nodes given as [name, self size, edges as [kind, name, to]]. */
function snapshot(nodes: Array<[string, number, Array<["property" | "weak", string, number]>]>) {
  const strings: string[] = [];
  const str = (s: string) => (strings.includes(s) ? strings.indexOf(s) : strings.push(s) - 1);
  const nodeTypes = ["hidden", "object"];
  const edgeTypes = ["property", "weak"];
  return parseSnapshot({
    snapshot: { meta: { node_fields: ["type", "name", "id", "self_size", "edge_count"], node_types: [nodeTypes], edge_fields: ["type", "name_or_index", "to_node"], edge_types: [edgeTypes] } },
    nodes: nodes.flatMap(([name, size, edges], i) => [i === 0 ? 0 : 1, str(name), i, size, edges.length]),
    edges: nodes.flatMap(([, , edges]) => edges.flatMap(([kind, name, to]) => [edgeTypes.indexOf(kind), str(name), to * 5])),
    strings,
  });
}

describe("dominators", () => {
  it("gives an object shared by two holders to their common dominator, and ignores weak edges", () => {
    const g = snapshot([
      ["(root)", 0, [["property", "a", 1], ["property", "b", 2]]],
      ["A", 10, [["property", "shared", 3], ["property", "own", 4]]],
      ["B", 20, [["property", "shared", 3], ["weak", "cache", 4]]],
      ["Shared", 100, []],
      ["OwnOfA", 1000, []],
    ]);
    const { retained, path } = dominators(g);
    expect([...retained]).toEqual([1130, 1010, 20, 100, 1000]);
    expect(g.label(4)).toBe("OwnOfA");
    expect(path(4, 5)).toBe("hidden.a > A.own");
  });
});

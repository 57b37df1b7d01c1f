// A V8 heap snapshot (.heapsnapshot JSON) as a graph, and its dominator tree: an object's retained
// size is its own plus that of every object only reachable through it.

interface SnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface HeapGraph {
  readonly count: number;
  type(n: number): string;
  label(n: number): string;
  selfSize(n: number): number;
  /** The edges of `n` that hold their target (not weak, not a shortcut), as [edge index, target]. */
  strongEdges(n: number): Iterable<[number, number]>;
  edgeName(e: number): string;
}

export function parseSnapshot(json: SnapshotJson): HeapGraph {
  const { node_fields, node_types, edge_fields, edge_types } = json.snapshot.meta;
  const NF = node_fields.length;
  const EF = edge_fields.length;
  const [iType, iName, iSize, iEdges] = ["type", "name", "self_size", "edge_count"].map((f) => node_fields.indexOf(f)) as [number, number, number, number];
  const [eType, eName, eTo] = ["type", "name_or_index", "to_node"].map((f) => edge_fields.indexOf(f)) as [number, number, number];
  const { nodes, edges, strings } = json;
  const count = nodes.length / NF;
  const firstEdge = new Uint32Array(count + 1);
  for (let n = 0, e = 0; n < count; n++) {
    firstEdge[n] = e;
    e += nodes[n * NF + iEdges]! * EF;
  }
  firstEdge[count] = edges.length;
  const nodeTypes = node_types[0];
  const edgeTypes = edge_types[0];
  const weak = edgeTypes.indexOf("weak");
  const shortcut = edgeTypes.indexOf("shortcut");
  const type = (n: number) => nodeTypes[nodes[n * NF + iType]!]!;
  return {
    count,
    type,
    label: (n) => {
      const t = type(n);
      const name = strings[nodes[n * NF + iName]!]!;
      return t === "object" || t === "closure" || t === "native" ? `${t === "object" ? "" : `${t} `}${name.slice(0, 40)}` : t;
    },
    selfSize: (n) => nodes[n * NF + iSize]!,
    *strongEdges(n) {
      for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e += EF) {
        const t = edges[e + eType]!;
        if (t !== weak && t !== shortcut) yield [e, edges[e + eTo]! / NF];
      }
    },
    edgeName: (e) => {
      const t = edgeTypes[edges[e + eType]!];
      return t === "element" || t === "hidden" ? `[${edges[e + eName]}]` : String(strings[edges[e + eName]!]);
    },
  };
}

/**
 * Retained sizes from the dominator tree rooted at node 0 (Cooper, Harvey and Kennedy's iterative
 * algorithm over a reverse postorder), and the path by which a DFS first reached each node.
 */
export function dominators(g: HeapGraph): { retained: Float64Array; path: (n: number, depth: number) => string } {
  const N = g.count;
  const post = new Int32Array(N).fill(-1);
  const order: number[] = [];
  const parent = new Int32Array(N).fill(-1);
  const parentEdge = new Int32Array(N).fill(-1);
  const preds: number[][] = Array.from({ length: N }, () => []);
  const seen = new Uint8Array(N);
  const stack: Array<{ n: number; it: Iterator<[number, number]> }> = [{ n: 0, it: g.strongEdges(0)[Symbol.iterator]() }];
  seen[0] = 1;
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const next = top.it.next();
    if (next.done) {
      stack.pop();
      post[top.n] = order.length;
      order.push(top.n);
      continue;
    }
    const [e, to] = next.value;
    preds[to]!.push(top.n);
    if (!seen[to]) {
      seen[to] = 1;
      parent[to] = top.n;
      parentEdge[to] = e;
      stack.push({ n: to, it: g.strongEdges(to)[Symbol.iterator]() });
    }
  }
  const idom = new Int32Array(N).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (post[a]! < post[b]!) a = idom[a]!;
      while (post[b]! < post[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = order.length - 1; i >= 0; i--) {
      const n = order[i]!;
      if (n === 0) continue;
      let d = -1;
      for (const p of preds[n]!) if (idom[p]! >= 0) d = d < 0 ? p : intersect(p, d);
      if (d >= 0 && idom[n] !== d) {
        idom[n] = d;
        changed = true;
      }
    }
  }
  const retained = new Float64Array(N);
  for (const n of order) {
    retained[n]! += g.selfSize(n);
    if (n !== 0) retained[idom[n]!]! += retained[n]!;
  }
  const path = (n: number, depth: number) => {
    const parts: string[] = [];
    for (let m = n; m > 0 && parent[m]! >= 0 && parts.length < depth; m = parent[m]!) parts.unshift(`${g.label(parent[m]!)}.${g.edgeName(parentEdge[m]!)}`);
    return parts.join(" > ");
  };
  return { retained, path };
}

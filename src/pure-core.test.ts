import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

// The decisions Tollgate takes (freeze, roll back, canary steps, traffic and autoscaling objects) are
// computed by pure modules, so they can be tested without a cluster and cannot write to one by accident.
// This test keeps it so: nothing those folders load at run time may reach the Kubernetes client, the
// HTTP client or the controller runtime.

const SRC = dirname(fileURLToPath(import.meta.url));
const PURE_FOLDERS = ["traffic", "canary", "policy", "slo", "autoscaling", "tenancy", "sharding"];
/** The plan of a profile's pass, and the actions it speaks in: pure files beside the shell that runs them. */
const PURE_FILES = [
  "controllers/profile/plan.ts",
  "controllers/profile/cadence.ts",
  "controllers/profile/plan-traffic.ts",
  "controllers/profile/plan-release.ts",
  "controllers/profile/claim.ts",
  "controllers/profile/outbox.ts",
  "controllers/profile/snapshot.ts",
  "controllers/profile/spec-problem.ts",
  "kube/actuators/actions.ts",
  // The kubectl plugin's views and decisions, beside the shells that fetch and write for them.
  "plugin/status-view.ts",
  "plugin/table.ts",
  "plugin/sparkline.ts",
  "plugin/explain-view.ts",
  "plugin/lint-check.ts",
  "plugin/evaluate-view.ts",
  "plugin/override-value.ts",
  "plugin/krew-manifest.ts",
  "plugin/identity.ts",
  "plugin/canary-request.ts",
];
const FORBIDDEN_PACKAGES = ["node:http", "node:https", "node:net", "node:tls"];
/** runtime/: the controller runtime; http/: the transport every client sends through. */
const FORBIDDEN_FOLDERS = ["runtime", "http"];

/**
 * The modules a file loads at run time. Type-only imports and exports are erased; an import whose
 * specifiers are all inline `type` ones is not, because with verbatimModuleSyntax (and Node's type
 * stripping) it stays as `import {} from "…"` and still loads the module.
 */
function runtimeImports(source: string, fileName = "module.ts"): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      if (!node.importClause?.isTypeOnly) found.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      if (!node.isTypeOnly) found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && !node.isTypeOnly && ts.isExternalModuleReference(node.moduleReference)) {
      const expr = node.moduleReference.expression;
      if (ts.isStringLiteral(expr)) found.push(expr.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node)) {
      return; // import("…").T in a type position is erased
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

function isForbiddenPackage(specifier: string): boolean {
  return FORBIDDEN_PACKAGES.some((p) => specifier === p || specifier.startsWith(`${p}/`));
}

function isForbiddenFile(file: string): boolean {
  const rel = relative(SRC, file).split("\\").join("/");
  return FORBIDDEN_FOLDERS.some((f) => rel.startsWith(`${f}/`));
}

function resolveRelative(from: string, specifier: string): string {
  const target = resolve(dirname(from), specifier);
  if (existsSync(target)) return target;
  const asTs = target.replace(/\.js$/, ".ts");
  if (existsSync(asTs)) return asTs;
  throw new Error(`${relative(SRC, from)}: cannot resolve ${specifier}`);
}

function productionFiles(folder: string): string[] {
  return readdirSync(join(SRC, folder), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith("test-builders.ts"))
    .map((f) => join(SRC, folder, f))
    .sort();
}

/** Every import chain from `roots` that reaches a forbidden module, as "a.ts → b.ts → http/transport.ts". */
function forbiddenChains(roots: readonly string[]): string[] {
  const parent = new Map<string, string | undefined>();
  const queue: string[] = [];
  const chains: string[] = [];
  for (const root of roots) {
    if (isForbiddenFile(root)) chains.push(relative(SRC, root));
    parent.set(root, undefined);
    queue.push(root);
  }
  const chainTo = (file: string): string[] => {
    const chain: string[] = [];
    for (let f: string | undefined = file; f !== undefined; f = parent.get(f)) chain.unshift(relative(SRC, f));
    return chain;
  };
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const specifier of runtimeImports(readFileSync(file, "utf8"), file)) {
      if (isForbiddenPackage(specifier)) {
        chains.push([...chainTo(file), specifier].join(" → "));
      } else if (specifier.startsWith(".")) {
        const next = resolveRelative(file, specifier);
        if (isForbiddenFile(next)) {
          chains.push([...chainTo(file), relative(SRC, next)].join(" → "));
        } else if (!parent.has(next)) {
          parent.set(next, file);
          queue.push(next);
        }
      }
    }
  }
  return chains;
}

describe("the pure core", () => {
  it.each(PURE_FOLDERS)("src/%s/ loads neither the Kubernetes client, HTTP nor runtime/ at run time", (folder) => {
    const roots = productionFiles(folder);
    expect(roots.length).toBeGreaterThan(0);
    expect(forbiddenChains(roots)).toEqual([]);
  });
});

describe("the plan of a pass", () => {
  it.each(PURE_FILES)("src/%s loads neither the Kubernetes client, HTTP nor runtime/ at run time", (file) => {
    expect(forbiddenChains([join(SRC, file)])).toEqual([]);
  });
});

describe("runtimeImports", () => {
  it("keeps value imports and re-exports, and an import whose specifiers are all inline types", () => {
    const source = [
      `import { a } from "./a.ts";`,
      `import b from "./b.ts";`,
      `import * as c from "./c.ts";`,
      `import "./d.ts";`,
      `export { e } from "./e.ts";`,
      `export * from "./f.ts";`,
      `import { type G } from "./g.ts";`,
      `import { h, type H } from "./h.ts";`,
      `const i = await import("./i.ts");`,
    ].join("\n");
    expect(runtimeImports(source)).toEqual(["./a.ts", "./b.ts", "./c.ts", "./d.ts", "./e.ts", "./f.ts", "./g.ts", "./h.ts", "./i.ts"]);
  });

  it("skips what the compiler erases", () => {
    const source = [
      `import type { A } from "./a.ts";`,
      `export type { B } from "./b.ts";`,
      `export type * from "./c.ts";`,
      `let d: import("./d.ts").D;`,
    ].join("\n");
    expect(runtimeImports(source)).toEqual([]);
  });

  it("finds a chain through a relative import to a forbidden package", () => {
    const chains = forbiddenChains([join(SRC, "plugin", "kube.ts")]);
    expect(chains).toContain("plugin/kube.ts → kube/client.ts → http/transport.ts");
    expect(chains).toContain("plugin/kube.ts → kube/cluster-access.ts → http/transport.ts");
  });
});

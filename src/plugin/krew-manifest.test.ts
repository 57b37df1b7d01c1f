import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { krewManifest } from "./krew-manifest.ts";

const release = {
  version: "0.1.0",
  uri: "https://downloads.example/tollgate/v0.1.0/kubectl-tollgate-0.1.0.tar.gz",
  sha256: "A".repeat(64),
  homepage: "https://tollgate.example/",
};

describe("krewManifest", () => {
  it("is a krew Plugin named tollgate, v-prefixed, for Linux and macOS, linking the compiled entrypoint", () => {
    const m = parse(krewManifest(release)) as {
      apiVersion: string;
      kind: string;
      metadata: { name: string };
      spec: { version: string; platforms: Array<{ selector: unknown; uri: string; sha256: string; files: Array<{ from: string; to: string }>; bin: string }> };
    };
    expect(m).toMatchObject({ apiVersion: "krew.googlecontainertools.github.com/v1alpha2", kind: "Plugin", metadata: { name: "tollgate" } });
    expect(m.spec.version).toBe("v0.1.0");
    expect(m.spec.platforms).toEqual([
      {
        selector: { matchExpressions: [{ key: "os", operator: "In", values: ["darwin", "linux"] }] },
        uri: release.uri,
        sha256: "a".repeat(64),
        files: [{ from: "tollgate-0.1.0/*", to: "." }],
        bin: "dist/plugin/main.js",
      },
    ]);
  });

  it.each([
    [{ version: "v0.1.0" }, "version must be a semantic version"],
    [{ sha256: "abc" }, "sha256 must be 64 hex digits"],
    [{ uri: "http://downloads.example/x.tar.gz" }, "uri must be an https URL"],
    [{ uri: "https://downloads.example/x" }, "uri must name a .tar.gz or .zip archive"],
    [{ homepage: "tollgate" }, "homepage must be a URL"],
  ])("refuses %j, naming the field", (change, message) => {
    expect(() => krewManifest({ ...release, ...change })).toThrow(message);
  });
});

import { parseAllDocuments } from "yaml";
import { DNS_LABEL_PATTERN } from "../api/names.ts";
import { fail, field, isObject, objectAt, sub, type Field, type Obj } from "./fields.ts";
import { OPENSLO_API_VERSION } from "./types.ts";

/** A file's text, with the name messages call it by. */
export interface SourceText {
  source: string;
  text: string;
}

/** The kinds import reads; the alerting kinds are read only to be set aside with a note. */
export const READ_KINDS = ["SLO", "SLI", "DataSource", "Service"] as const;
export const ALERTING_KINDS = ["AlertPolicy", "AlertCondition", "AlertNotificationTarget"] as const;
export type ReadKind = (typeof READ_KINDS)[number];

/** One OpenSLO document of a kind import reads. */
export interface OpenSloInput {
  kind: ReadKind;
  name: string;
  /** `file: Kind name`, the prefix of every message about it. */
  where: string;
  metadata: Obj;
  spec: Obj;
}

export interface ReadDocuments {
  documents: OpenSloInput[];
  /** Documents set aside, each as a sentence for the user. */
  notes: string[];
}

const LABEL = new RegExp(DNS_LABEL_PATTERN);

function kindOf(f: Field, v: unknown): ReadKind | (typeof ALERTING_KINDS)[number] {
  const all: readonly string[] = [...READ_KINDS, ...ALERTING_KINDS];
  if (typeof v !== "string" || !all.includes(v)) fail(f, `must be one of ${all.join(", ")}, not ${JSON.stringify(v ?? null)}`);
  return v as ReadKind | (typeof ALERTING_KINDS)[number];
}

/**
 * The OpenSLO v1 documents of the files, in order. Every document must be OpenSLO v1: a file of other
 * objects is more likely the wrong file than one to skip. Throws ConversionError naming the file, the
 * document and the field.
 */
export function readDocuments(files: readonly SourceText[]): ReadDocuments {
  const documents: OpenSloInput[] = [];
  const notes: string[] = [];
  const seen = new Map<string, string>();
  for (const { source, text } of files) {
    parseAllDocuments(text).forEach((doc, d) => {
      const at = field(`${source}, document ${d + 1}`);
      const error = doc.errors[0];
      if (error) fail(at, error.message);
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) return;
      const obj = objectAt(at, value);
      if (obj.apiVersion !== OPENSLO_API_VERSION) {
        fail(sub(at, "apiVersion"), `only ${OPENSLO_API_VERSION} documents are read, not ${JSON.stringify(obj.apiVersion ?? null)}`);
      }
      const kind = kindOf(sub(at, "kind"), obj.kind);
      const metadata = objectAt(sub(at, "metadata"), obj.metadata);
      const name = metadata.name;
      if (typeof name !== "string" || name.length > 63 || !LABEL.test(name)) {
        fail(sub(sub(at, "metadata"), "name"), `an OpenSLO name is an RFC 1123 label (lower-case letters, digits and dashes, at most 63), not ${JSON.stringify(name ?? null)}`);
      }
      const where = `${source}: ${kind} ${name}`;
      if ((ALERTING_KINDS as readonly string[]).includes(kind)) {
        notes.push(`${where}: not imported: Tollgate writes its own burn-rate alerts from each SLO (tollgate rules)`);
        return;
      }
      const readKind = kind as ReadKind;
      const key = `${readKind}/${name}`;
      const first = seen.get(key);
      if (first !== undefined) fail(field(where), `is also in ${first}; names are unique per kind`);
      seen.set(key, source);
      documents.push({ kind: readKind, name, where, metadata, spec: objectAt(sub(field(where), "spec"), obj.spec) });
    });
  }
  return { documents, notes };
}

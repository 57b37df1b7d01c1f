interface ManagedEntry {
  manager: string;
  fieldsV1?: Record<string, unknown>;
}

/**
 * Whether `manager` owns the field at `path` of a server-side-applied object, by its managedFields
 * (paths in fieldsV1 form, e.g. ["f:spec", "f:http"]).
 */
export function owns(obj: { metadata: { managedFields?: unknown[] } }, manager: string, path: string[]): boolean {
  return ((obj.metadata.managedFields ?? []) as ManagedEntry[]).some((e) => {
    if (e.manager !== manager) return false;
    let node: unknown = e.fieldsV1;
    for (const key of path) {
      if (typeof node !== "object" || node === null || !(key in node)) return false;
      node = (node as Record<string, unknown>)[key];
    }
    return true;
  });
}

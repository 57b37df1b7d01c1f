import type { KubeObject } from "../kube/types.ts";

function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * Whether an update is more than a status write: the spec (metadata.generation), or metadata a
 * controller acts on (labels, annotations, finalizers, owners, deletion). A controller that writes
 * the status of the objects it watches would otherwise wake itself with its own writes; where each
 * pass reads fresh numbers, so that each write differs, that becomes a loop of writes (controller-
 * runtime's GenerationChangedPredicate, with the metadata Tollgate reads). Objects without a
 * generation (a type with no status subresource) always count as changed.
 */
export function changedBeyondStatus(old: KubeObject, obj: KubeObject): boolean {
  const a = old.metadata ?? {};
  const b = obj.metadata ?? {};
  if (a.generation === undefined || b.generation === undefined) return true;
  return (
    a.generation !== b.generation ||
    a.uid !== b.uid ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    !sameJson(a.labels, b.labels) ||
    !sameJson(a.annotations, b.annotations) ||
    !sameJson(a.finalizers, b.finalizers) ||
    !sameJson(a.ownerReferences, b.ownerReferences)
  );
}

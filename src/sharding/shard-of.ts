/**
 * Which shard a profile belongs to. Every replica must compute the same answer from the key alone, with
 * no state and no coordination, in this process and in any later version: a change here moves profiles
 * between shards while replicas of both versions run, so it is a change of the shard map, like a change
 * of --shards (see shardLeaseName).
 */

const utf8 = new TextEncoder();

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * FNV-1a, 32 bits, over the UTF-8 bytes of `text`. Chosen over the project's SHA-256 digest (digest.ts)
 * because a shard needs a small integer, not a digest, and FNV-1a is a few lines anyone can
 * reimplement (a kubectl plugin, a script) to find a profile's shard.
 */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of utf8.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash >>> 0;
}

/**
 * The shard of the profile with key `namespace/name` among `shards`: mix32(fnv1a32(key)) mod shards.
 * FNV-1a alone does not do: the low k bits of its state depend only on the low k bits of each byte (the
 * multiplication carries upward only), so mod 2 is the parity of the odd characters, and its high bits
 * barely see the last characters, where names such as svc-00017 differ. The finalizer mixes every bit
 * into every other, and the spread is then that of a uniform random assignment (tested).
 */
export function shardOf(key: string, shards: number): number {
  return shards <= 1 ? 0 : mix32(fnv1a32(key)) % shards;
}

/** MurmurHash3's 32-bit finalizer: every input bit reaches every output bit. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/* hash.h - FNV-1a, 64 bits: the fingerprints the project keeps (the C
 * API's kernel cache keys, the runtime a host calibration was measured
 * with).  Not for anything adversarial. */
#ifndef MAMBALAYA_HASH_H
#define MAMBALAYA_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The offset basis: where a hash starts. */
#define HASH_FNV0 1469598103934665603ull

/* h continued over the n bytes at p. */
uint64_t hash_fnv1a(uint64_t h, const void *p, size_t n);

#endif

/* rng.h - tiny deterministic random generator (splitmix64).
 *
 * Header-only so that the evaluator and the tests (tests/mamba_ref) get
 * identical streams from the same seed on every platform without linking
 * anything.  Not cryptographic.  An rng is a value the caller owns. */
#ifndef MAMBALAYA_RNG_H
#define MAMBALAYA_RNG_H

#include <stdint.h>

typedef struct rng {
    uint64_t s;
} rng;

/* Any seed is fine, including 0: splitmix64 adds a constant before mixing. */
static inline void rng_seed(rng *r, uint64_t seed)
{
    r->s = seed;
}

/* splitmix64 (Steele, Lea, Flood 2014; constants as in Vigna's reference). */
static inline uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, 1): the top 53 bits scaled exactly, so 1.0 is impossible. */
static inline double rng_uniform(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [-1, 1) as float. Uses 24 bits so every value is exact in a
 * float; rounding a double would map values just below 1 up to 1.0f. */
static inline float rng_sym(rng *r)
{
    int32_t k = (int32_t)(rng_next(r) >> 40); /* [0, 2^24) */
    return (float)(k - (1 << 23)) * 0x1.0p-23f;
}

#endif /* MAMBALAYA_RNG_H */

/* ml_math.h - the language's functions in float, as generated kernels call
 * them: ml_exp (a polynomial that vectorises), ml_log, ml_sigmoid, ml_silu,
 * ml_softplus, ... (docs/codegen.md gives their accuracy).  Part of the
 * kernels' runtime: see ml_base.h.
 *
 * Pure functions: no state, no memory of their own.
 */
#ifndef ML_MATH_H
#define ML_MATH_H

#include "ml_base.h"

/* BEGIN EMBEDDED */
/* The language's functions, in float.  exp is a polynomial that the
 * compiler can vectorise (see docs/codegen.md for its accuracy). */
ML_INLINE float ml_exp(float x)
{
	/* exp(x) = 2^n * exp(r), |r| <= ln(2)/2, exp(r) by a polynomial of
	 * degree 5 fitted to the relative error over that interval, with
	 * exp(0) = 1 exactly (9.1e-8 in exact arithmetic; 1.8e-7 in float,
	 * 3.9e-7 with the kernels' -fassociative-math, which merges the two
	 * steps of r below).
	 * Taylor's degree 7 was 1.0e-7 and 3.0e-7, for two more FMAs: 4% of
	 * Mamba-1's scan group.
	 *
	 * x is clamped to [-87, 88] on its bits, so that 2^n stays a normal
	 * float: as unsigned, the floats below -87 (and -inf, negative NaNs)
	 * are exactly those above -87's bits; as signed, the floats above 88
	 * (and +inf, positive NaNs) those above 88's.  Two integer minimums
	 * vectorise to two instructions; the float compares they replace
	 * became nine (gcc merges both ?: with the product that follows). */
	union { float f; int32_t i; uint32_t u; } c;
	c.f = x;
	c.u = c.u < 0xC2AE0000u ? c.u : 0xC2AE0000u; /* -87.0f */
	c.i = c.i < 0x42B00000 ? c.i : 0x42B00000;   /* 88.0f */
	float y = c.f;
	float n = rintf(y * 1.44269504088896341f);
	float r = y - n * 0.693145751953125f;
	r = r - n * 1.42860682030941723e-6f;
	float p = 0.008290314115583897f;
	p = p * r + 0.04189793020486832f;
	p = p * r + 0.1666763573884964f;
	p = p * r + 0.4999915063381195f;
	p = p * r + 0.9999997019767761f;
	p = p * r + 1.0f;
	union { float f; int32_t i; } u;
	u.f = p;
	u.i += (int32_t)n * (1 << 23);
	/* NaN stays NaN, as it did through the float compares. */
	return x == x ? u.f : x;
}
/* log of a normal, finite x > 0, without branches (vectorisable). */
ML_INLINE float ml_log_pos(float x)
{
	/* x = m 2^e with m in [sqrt(1/2), sqrt(2)); log(m) = 2 atanh(s),
	 * s = (m-1)/(m+1), |s| < 0.172, by its series to s^9. */
	union { float f; int32_t i; } u;
	u.f = x;
	int32_t e = ((u.i >> 23) & 255) - 127;
	u.i = (u.i & 0x007fffff) | 0x3f800000;
	float m = u.f;
	int big = m > 1.41421356f;
	m = big ? m * 0.5f : m;
	e += big;
	float f = m - 1.0f, sv = f / (2.0f + f), z = sv * sv;
	float p = 2.0f / 9.0f;
	p = p * z + 2.0f / 7.0f;
	p = p * z + 2.0f / 5.0f;
	p = p * z + 2.0f / 3.0f;
	p = p * z + 2.0f;
	return sv * p + (float)e * 0.693147180559945f;
}
ML_INLINE float ml_log(float x)
{
	if (!(x > 1.17549435e-38f) || x > 3.4e38f)
		return logf(x);
	return ml_log_pos(x);
}
ML_INLINE float ml_sqrt(float x) { return sqrtf(x); }
ML_INLINE float ml_rsqrt(float x) { return 1.0f / sqrtf(x); }
ML_INLINE float ml_sigmoid(float x) { return 1.0f / (1.0f + ml_exp(-x)); }
ML_INLINE float ml_silu(float x) { return x / (1.0f + ml_exp(-x)); }
ML_INLINE float ml_softplus(float x)
{
	/* max(x, 0) + log(1 + t), t = e^-|x| in (0, 1]: one exp, then
	 * log(1 + t) = t P(t), P of degree 8 fitted to log(1 + t) / t over
	 * [0, 1] (3.5e-8 relative), so that the error stays relative for
	 * every x (e^x below 0, x + e^-x above).  The chain of exp then log
	 * it replaced ran 0.29 against 0.44 10^9/s per thread on an AMD
	 * EPYC: a 256-bit log after the exp had nearly twice the work and a
	 * longer chain of dependent steps than one polynomial. */
	float t = ml_exp(-fabsf(x));
	float p = 0.005109573069723218f;
	p = p * t - 0.02900725982095853f;
	p = p * t + 0.07740618561557111f;
	p = p * t - 0.1359280983727328f;
	p = p * t + 0.19072376384723716f;
	p = p * t - 0.24834226645850102f;
	p = p * t + 0.33317971067818264f;
	p = p * t - 0.4999943756863736f;
	p = p * t + 0.9999999653492264f;
	/* NaN stays NaN (t is NaN); +inf is inf, -inf e^-87. */
	return (x > 0.0f ? x : 0.0f) + t * p;
}
/* tanh without branches (vectorisable; libm's tanhf is a call per
 * element): an odd Taylor polynomial to x^11 below |x| = 0.125 (error
 * under 1e-12 relative), 1 - 2 / (e^2|x| + 1) above (1 - a small number:
 * no cancellation there), the sign put back. */
ML_INLINE float ml_tanh(float x)
{
	float a = fabsf(x), z = x * x;
	float p = 62.0f / 2835.0f;
	p = p * z - 17.0f / 315.0f;
	p = p * z + 2.0f / 15.0f;
	p = p * z - 1.0f / 3.0f;
	float small = a + a * z * p;
	float big = 1.0f - 2.0f / (ml_exp(2.0f * a) + 1.0f);
	union { float f; int32_t i; } vs, vb, vx;
	vs.f = small;
	vb.f = big;
	vx.f = x;
	int32_t lo = -(int32_t)(a < 0.125f);
	vb.i = (vs.i & lo) | (vb.i & ~lo);
	vb.i |= vx.i & INT32_MIN;
	return vb.f;
}
ML_INLINE float ml_relu(float x) { return x > 0.0f ? x : 0.0f; }
ML_INLINE float ml_abs(float x) { return fabsf(x); }
ML_INLINE float ml_neg(float x) { return -x; }
ML_INLINE float ml_recip(float x) { return 1.0f / x; }
ML_INLINE float ml_square(float x) { return x * x; }
ML_INLINE float ml_max(float a, float b) { return a > b ? a : b; }
ML_INLINE float ml_min(float a, float b) { return a < b ? a : b; }

/* END EMBEDDED */

#endif

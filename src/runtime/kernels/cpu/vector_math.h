// Vectorized f32 transcendental functions for the cpu backend's own kernels (activations, Softmax).
//
// The library is compiled for baseline x86-64 (no -mavx2), so the fast path is a set of AVX2+FMA functions
// built with __attribute__((target)) and chosen once at run time (__builtin_cpu_supports); other machines
// get a scalar std:: loop. exp is Cephes' expf scheme (n = round(x / ln 2), a degree-6 polynomial on the
// remainder) with the power of two applied in two halves, so the whole float range comes out right:
// gradual underflow to 0 below -87, +inf above ln(FLT_MAX), NaN in NaN out. Relative error is within a
// few ulp (< 1e-6) of std::exp wherever the result is a normal float; tests/cpu_vector_math_test.cpp
// sweeps the range.
//
// Each function works on one contiguous range and runs single-threaded; callers split large tensors
// across OpenMP threads themselves. `in` and `out` may be the same array.
#pragma once

#include <cstdint>

namespace npukit::runtime::cpu::vector_math {

// True when the AVX2+FMA versions run on this machine; other kernels that carry an AVX2 build of a loop
// (NPUKIT_TARGET_AVX2) choose it with this.
bool uses_avx2();

// Compiles one function for AVX2+FMA whatever the project's flags: call it only when uses_avx2(). Plain
// loops inlined into such a function are auto-vectorized with 256-bit registers and FMA.
#if defined(__x86_64__) || defined(__i386__)
#define NPUKIT_TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define NPUKIT_TARGET_AVX2
#endif

void exp(const float* in, float* out, int64_t count);
void sigmoid(const float* in, float* out, int64_t count);  // 1 / (1 + exp(-x))
void tanh(const float* in, float* out, int64_t count);
void silu(const float* in, float* out, int64_t count);  // x * sigmoid(x), 0 at -inf

// Runs `function` over in[0, count) -> out, in blocks split across the OpenMP threads.
void apply_in_parallel(void (*function)(const float*, float*, int64_t), const float* in, float* out, int64_t count);

// Largest element of in[0, count) (NaN-free input assumed; count >= 1).
float maximum(const float* in, int64_t count);

// out[i] = exp(in[i] - shift); returns the sum of the out[i], accumulated in double (a float sum over a
// wide axis such as OCR's 6625 classes drifts by ~1e-4).
double exp_shifted_sum(const float* in, float shift, float* out, int64_t count);

// out[i] = exp(in[i] - shift[i]), elementwise (Softmax along a non-innermost axis).
void exp_of_difference(const float* in, const float* shift, float* out, int64_t count);

}  // namespace npukit::runtime::cpu::vector_math

/* test_npy.c - CMocka unit tests for runtime/npy.c and runtime/rng.h.
 *
 * Real numpy output is embedded as byte arrays below (generated once with
 * numpy 1.24.2) so the tests never need Python. Files go to a fresh mkdtemp
 * directory per test, removed in teardown. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, opendir */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "eval/rng.h"
#include "ml_npy.h"

/* Generated with numpy 1.24.2 (python3 -c ...); do not edit by hand. */
/* np.save(np.array([[-1.0, -0.5, 0.0], [0.5, 1.0, 1.5]], dtype=np.float32)) */
static const unsigned char np_f32_2x3[152] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32, 0x2c, 0x20,
    0x33, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0x80, 0xbf, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f,
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0xc0, 0x3f,
};
/* np.save(np.array(7.0, dtype=np.float32)) */
static const unsigned char np_f32_0d[132] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x29, 0x2c, 0x20,
    0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0xe0, 0x40,
};
/* np.save(np.array([1.5, -2.0, 3.25], dtype=np.float32)) */
static const unsigned char np_f32_1d[140] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x33, 0x2c, 0x29,
    0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x50, 0x40,
};
/* np.save(np.arange(8, dtype=np.float32).reshape(2, 2, 2)) */
static const unsigned char np_f32_3d[160] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32, 0x2c, 0x20,
    0x32, 0x2c, 0x20, 0x32, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40,
    0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0xa0, 0x40, 0x00, 0x00, 0xc0, 0x40, 0x00, 0x00, 0xe0, 0x40,
};
/* write_array(np.array([1.0, 2.0], dtype=np.float32), version=(2, 0)) */
static const unsigned char np_f32_v2[136] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x02, 0x00, 0x74, 0x00, 0x00, 0x00, 0x7b, 0x27, 0x64, 0x65,
    0x73, 0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f,
    0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61,
    0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32,
    0x2c, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40,
};
/* write_array(np.array([1.0, 2.0], dtype=np.float32), version=(3, 0)) */
static const unsigned char np_f32_v3[136] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x03, 0x00, 0x74, 0x00, 0x00, 0x00, 0x7b, 0x27, 0x64, 0x65,
    0x73, 0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f,
    0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61,
    0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32,
    0x2c, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40,
};
/* np.save(np.array([1.0, 2.0])) */
static const unsigned char np_f64[144] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x38, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32, 0x2c, 0x29,
    0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40,
};
/* np.save(np.array([1.0, 2.0], dtype='>f4')) */
static const unsigned char np_f32_be[136] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3e, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32, 0x2c, 0x29,
    0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x3f, 0x80, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00,
};
/* np.save(np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3))) */
static const unsigned char np_f32_fortran[152] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x54, 0x72, 0x75, 0x65,
    0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32, 0x2c, 0x20, 0x33,
    0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x80, 0x40,
    0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0xa0, 0x40,
};
/* np.save(np.zeros((0, 3), dtype=np.float32)) */
static const unsigned char np_f32_0x3[128] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x30, 0x2c, 0x20,
    0x33, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
};
/* write_array_header_1_0 for shape (0, 10000, 10000, 10000, 100, 100, 100, 100): padding is a full 64 bytes */
static const unsigned char np_hdr_pad64[192] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0xb6, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63,
    0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74,
    0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73,
    0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x30, 0x2c, 0x20,
    0x31, 0x30, 0x30, 0x30, 0x30, 0x2c, 0x20, 0x31, 0x30, 0x30, 0x30, 0x30, 0x2c, 0x20, 0x31, 0x30,
    0x30, 0x30, 0x30, 0x2c, 0x20, 0x31, 0x30, 0x30, 0x2c, 0x20, 0x31, 0x30, 0x30, 0x2c, 0x20, 0x31,
    0x30, 0x30, 0x2c, 0x20, 0x31, 0x30, 0x30, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
};

/* ---- helpers ------------------------------------------------------------ */

#define ERRLEN 256

static int setup_dir(void **state)
{
    char *dir = strdup("/tmp/test_npy.XXXXXX");

    if (dir == NULL || mkdtemp(dir) == NULL) {
        free(dir);
        return -1;
    }
    *state = dir;
    return 0;
}

/* Removes every file the test left behind, then the directory itself. */
static int teardown_dir(void **state)
{
    char *dir = *state;
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[4096];

    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
    return 0;
}

static void path_in(void **state, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", (const char *)*state, name);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void write_bytes(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Reads a whole file into a malloc'ed buffer (caller frees). */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Builds preamble + dlen bytes of dict text (verbatim, unpadded) + payload.
 * Caller frees. */
static unsigned char *mk_n(int major, const char *dict, size_t dlen, const void *payload, size_t plen,
                           size_t *outlen)
{
    size_t off = major == 1 ? 10 : 12;
    unsigned char *b = malloc(off + dlen + plen + 1);

    assert_non_null(b);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    b[8] = (unsigned char)(dlen & 0xff);
    b[9] = (unsigned char)((dlen >> 8) & 0xff);
    if (major != 1) {
        b[10] = (unsigned char)((dlen >> 16) & 0xff);
        b[11] = (unsigned char)((dlen >> 24) & 0xff);
    }
    memcpy(b + off, dict, dlen);
    if (plen > 0)
        memcpy(b + off + dlen, payload, plen);
    *outlen = off + dlen + plen;
    return b;
}

static unsigned char *mk(int major, const char *dict, const void *payload, size_t plen, size_t *outlen)
{
    return mk_n(major, dict, strlen(dict), payload, plen, outlen);
}

/* Asserts that parsing fails cleanly and the message contains want. */
static void expect_fail(const unsigned char *buf, size_t len, const char *want)
{
    float *data = (float *)&data; /* poison: must be reset to NULL */
    int ndim = -1;
    int64_t shape[NPY_MAX_DIMS];
    char err[ERRLEN];

    memset(err, 'x', sizeof err);
    assert_int_equal(npy_parse_f32(buf, len, &data, &ndim, shape, err, sizeof err), -1);
    assert_null(data);
    assert_non_null(memchr(err, '\0', sizeof err));
    assert_null(strchr(err, '\n'));
    if (strstr(err, want) == NULL)
        fail_msg("error message \"%s\" does not contain \"%s\"", err, want);
}

static void expect_dict_fail(const char *dict, size_t payload_floats, const char *want)
{
    float payload[16] = {0};
    size_t len;
    unsigned char *b;

    assert_true(payload_floats <= 16);
    b = mk(1, dict, payload, payload_floats * sizeof(float), &len);
    expect_fail(b, len, want);
    free(b);
}

static void expect_parse_ok(const unsigned char *buf, size_t len, int want_ndim, const int64_t *want_shape,
                            const float *want, size_t count)
{
    float *data = NULL;
    int ndim = -1;
    int64_t shape[NPY_MAX_DIMS];
    char err[ERRLEN];

    if (npy_parse_f32(buf, len, &data, &ndim, shape, err, sizeof err) != 0)
        fail_msg("parse failed: %s", err);
    assert_non_null(data);
    assert_int_equal(ndim, want_ndim);
    if (want_ndim > 0)
        assert_memory_equal(shape, want_shape, sizeof(int64_t) * (size_t)want_ndim);
    if (count > 0)
        assert_memory_equal(data, want, count * sizeof(float));
    free(data);
}

/* Writes an array, checks the bytes are numpy's when expected is given, and
 * reads it back through the file reader. */
static void roundtrip(void **state, int ndim, const int64_t *shape, const float *vals, size_t count,
                      const unsigned char *expected, size_t expected_len)
{
    char path[4096], err[ERRLEN];
    float *data = NULL;
    int got_ndim = -1;
    int64_t got_shape[NPY_MAX_DIMS];

    path_in(state, "a.npy", path, sizeof path);
    if (npy_write_f32(path, vals, ndim, shape, err, sizeof err) != 0)
        fail_msg("write failed: %s", err);
    if (expected != NULL) {
        size_t len;
        unsigned char *bytes = slurp(path, &len);
        assert_int_equal(len, expected_len);
        assert_memory_equal(bytes, expected, len);
        free(bytes);
    }
    if (npy_read_f32(path, &data, &got_ndim, got_shape, err, sizeof err) != 0)
        fail_msg("read failed: %s", err);
    assert_non_null(data);
    assert_int_equal(got_ndim, ndim);
    if (ndim > 0)
        assert_memory_equal(got_shape, shape, sizeof(int64_t) * (size_t)ndim);
    if (count > 0)
        assert_memory_equal(data, vals, count * sizeof(float));
    free(data);
    /* Only the target remains: the temporary file was renamed away. */
    assert_int_equal(count_entries((const char *)*state), 1);
}

/* ---- round trips ---------------------------------------------------------- */

static void test_roundtrip_0d(void **state)
{
    const float v[1] = {7.0f};

    roundtrip(state, 0, NULL, v, 1, np_f32_0d, sizeof np_f32_0d);
}

static void test_roundtrip_1d(void **state)
{
    const float v[3] = {1.5f, -2.0f, 3.25f};
    const int64_t shape[1] = {3};

    roundtrip(state, 1, shape, v, 3, np_f32_1d, sizeof np_f32_1d);
}

static void test_roundtrip_2d(void **state)
{
    const float v[6] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};
    const int64_t shape[2] = {2, 3};

    roundtrip(state, 2, shape, v, 6, np_f32_2x3, sizeof np_f32_2x3);
}

static void test_roundtrip_3d(void **state)
{
    const float v[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    const int64_t shape[3] = {2, 2, 2};

    roundtrip(state, 3, shape, v, 8, np_f32_3d, sizeof np_f32_3d);
}

static void test_roundtrip_3d_random(void **state)
{
    enum { N = 4 * 5 * 6 };
    float v[N];
    const int64_t shape[3] = {4, 5, 6};
    rng r;
    int i;

    rng_seed(&r, 42);
    for (i = 0; i < N; i++)
        v[i] = rng_sym(&r);
    roundtrip(state, 3, shape, v, N, NULL, 0);
}

static void test_roundtrip_empty(void **state)
{
    const int64_t shape[2] = {0, 3};

    roundtrip(state, 2, shape, NULL, 0, np_f32_0x3, sizeof np_f32_0x3);
}

static void test_roundtrip_8d(void **state)
{
    float v[256];
    const int64_t shape[8] = {2, 2, 2, 2, 2, 2, 2, 2};
    int i;

    for (i = 0; i < 256; i++)
        v[i] = (float)i * 0.25f;
    roundtrip(state, 8, shape, v, 256, NULL, 0);
}

/* numpy pads a full 64 bytes when the header is already aligned. */
static void test_write_full_pad_like_numpy(void **state)
{
    const int64_t shape[8] = {0, 10000, 10000, 10000, 100, 100, 100, 100};

    roundtrip(state, 8, shape, NULL, 0, np_hdr_pad64, sizeof np_hdr_pad64);
}

/* ---- reading numpy's own files ------------------------------------------ */

static void test_read_numpy_files(void **state)
{
    const float v2x3[6] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};
    const float v12[2] = {1.0f, 2.0f};
    const float v0d[1] = {7.0f};
    const int64_t s2x3[2] = {2, 3}, s2[1] = {2}, s0x3[2] = {0, 3};
    char path[4096], err[ERRLEN];
    float *data = NULL;
    int ndim;
    int64_t shape[NPY_MAX_DIMS];

    expect_parse_ok(np_f32_2x3, sizeof np_f32_2x3, 2, s2x3, v2x3, 6);
    expect_parse_ok(np_f32_v2, sizeof np_f32_v2, 1, s2, v12, 2);
    expect_parse_ok(np_f32_v3, sizeof np_f32_v3, 1, s2, v12, 2);
    expect_parse_ok(np_f32_0d, sizeof np_f32_0d, 0, NULL, v0d, 1);
    expect_parse_ok(np_f32_0x3, sizeof np_f32_0x3, 2, s0x3, NULL, 0);

    path_in(state, "np.npy", path, sizeof path);
    write_bytes(path, np_f32_v3, sizeof np_f32_v3);
    assert_int_equal(npy_read_f32(path, &data, &ndim, shape, err, sizeof err), 0);
    assert_int_equal(ndim, 1);
    assert_int_equal(shape[0], 2);
    assert_memory_equal(data, v12, sizeof v12);
    free(data);
}

static void test_header_variants(void **state)
{
    const float v[6] = {1, 2, 3, 4, 5, 6};
    const int64_t s23[2] = {2, 3}, s6[1] = {6};
    static const char *const ok23[] = {
        "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}",
        "{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(2,3)}\n",
        "  {\n 'descr' : '<f4' ,\t'fortran_order' :False, 'shape':( 2 , 3 , ) , }   \n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}",
    };
    size_t i, len;
    unsigned char *b;

    (void)state;
    for (i = 0; i < sizeof ok23 / sizeof ok23[0]; i++) {
        b = mk(1, ok23[i], v, sizeof v, &len);
        expect_parse_ok(b, len, 2, s23, v, 6);
        free(b);
    }
    b = mk(1, "{'descr':'<f4','fortran_order':False,'shape':(6,)}", v, sizeof v, &len);
    expect_parse_ok(b, len, 1, s6, v, 6);
    free(b);
    /* v2 with an unpadded header: data at an odd, unaligned offset. */
    b = mk(2, "{'descr':'<f4','fortran_order':False,'shape':(6,)}", v, sizeof v, &len);
    expect_parse_ok(b, len, 1, s6, v, 6);
    free(b);
    /* -0 is a valid (zero) dimension. */
    b = mk(1, "{'descr':'<f4','fortran_order':False,'shape':(-0,)}", NULL, 0, &len);
    expect_parse_ok(b, len, 1, (const int64_t[]){0}, NULL, 0);
    free(b);
}

/* ---- malformed input ------------------------------------------------------ */

static void test_bad_magic(void **state)
{
    unsigned char b[sizeof np_f32_1d];

    (void)state;
    memcpy(b, np_f32_1d, sizeof b);
    b[1] = 'X';
    expect_fail(b, sizeof b, "not a .npy file (bad magic)");
    expect_fail((const unsigned char *)"PK\x03\x04", 4, "not a .npy file (bad magic)");
    expect_fail(NULL, 0, "not a .npy file");
}

static void test_bad_version(void **state)
{
    unsigned char b[sizeof np_f32_1d];

    (void)state;
    memcpy(b, np_f32_1d, sizeof b);
    b[6] = 4;
    expect_fail(b, sizeof b, "unsupported .npy format version 4.0");
    b[6] = 1;
    b[7] = 1;
    expect_fail(b, sizeof b, "unsupported .npy format version 1.1");
}

static void test_truncated_header(void **state)
{
    (void)state;
    expect_fail(np_f32_1d, 3, "truncated");
    expect_fail(np_f32_1d, 7, "truncated");
    expect_fail(np_f32_1d, 9, "truncated");
    expect_fail(np_f32_v2, 11, "truncated");
    expect_fail(np_f32_1d, 10, "truncated: header length is 118 bytes but only 0 bytes follow the preamble");
    expect_fail(np_f32_1d, 60, "truncated: header length is 118 bytes but only 50 bytes");
}

static void test_truncated_data(void **state)
{
    float payload[4] = {0};
    size_t len;
    unsigned char *b = mk(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", payload,
                          sizeof payload, &len);

    (void)state;
    expect_fail(b, len, "truncated: header says 6 elements (24 bytes) but the file has 16 bytes of data");
    free(b);
    expect_fail(np_f32_1d, sizeof np_f32_1d - 1,
                "truncated: header says 3 elements (12 bytes) but the file has 11 bytes of data");
    expect_fail(np_f32_0d, sizeof np_f32_0d - 4,
                "truncated: header says 1 elements (4 bytes) but the file has 0 bytes of data");
}

static void test_trailing_bytes(void **state)
{
    unsigned char b[sizeof np_f32_1d + 1];

    (void)state;
    memcpy(b, np_f32_1d, sizeof np_f32_1d);
    b[sizeof np_f32_1d] = 0;
    expect_fail(b, sizeof b, "trailing garbage: header says 3 elements (12 bytes) but the file has 13 bytes of data");
    expect_dict_fail("{'descr':'<f4','fortran_order':False,'shape':(0, 3)}", 1, "trailing garbage");
}

static void test_wrong_dtype(void **state)
{
    (void)state;
    expect_fail(np_f64, sizeof np_f64, "dtype is '<f8', expected float32 ('<f4')");
    expect_fail(np_f32_be, sizeof np_f32_be, "dtype is '>f4', expected float32 ('<f4')");
    expect_dict_fail("{'descr':'|f4','fortran_order':False,'shape':(1,)}", 1, "dtype is '|f4', expected float32");
    expect_dict_fail("{'descr':'<i4','fortran_order':False,'shape':(1,)}", 1, "dtype is '<i4'");
    expect_dict_fail("{'descr':[('a','<f4')],'fortran_order':False,'shape':(1,)}", 1, "structured");
    expect_dict_fail("{'descr':'<f4\x01','fortran_order':False,'shape':(1,)}", 1, "dtype is '<f4?'");
    expect_dict_fail("{'descr':'<ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff4',"
                     "'fortran_order':False,'shape':(1,)}",
                     1, "dtype string is too long");
}

static void test_fortran_order(void **state)
{
    (void)state;
    expect_fail(np_f32_fortran, sizeof np_f32_fortran, "fortran_order is True, expected C order");
    expect_dict_fail("{'descr':'<f4','fortran_order':true,'shape':(1,)}", 1, "fortran_order must be True or False");
    expect_dict_fail("{'descr':'<f4','fortran_order':0,'shape':(1,)}", 1, "fortran_order must be True or False");
}

static void test_bad_shape_syntax(void **state)
{
    static const char *const bad[] = {
        "{'descr':'<f4','fortran_order':False,'shape':(3)}",
        "{'descr':'<f4','fortran_order':False,'shape':(,)}",
        "{'descr':'<f4','fortran_order':False,'shape':(3,,)}",
        "{'descr':'<f4','fortran_order':False,'shape':[3]}",
        "{'descr':'<f4','fortran_order':False,'shape':(a,)}",
        "{'descr':'<f4','fortran_order':False,'shape':(3 1)}",
        "{'descr':'<f4','fortran_order':False,'shape':(3,",
        "{'descr':'<f4','fortran_order':False,'shape':3}",
        "{'descr':'<f4','fortran_order':False,'shape':(3.0,)}",
        "{'descr':'<f4','fortran_order':False,'shape':(+3,)}",
        "{'descr':'<f4','fortran_order':False,'shape':(-,)}",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_dict_fail(bad[i], 3, "bad shape syntax");
}

static void test_bad_dict(void **state)
{
    (void)state;
    expect_dict_fail("", 1, "expected '{'");
    expect_dict_fail("'descr':'<f4','fortran_order':False,'shape':(1,)", 1, "expected '{'");
    expect_dict_fail("{'descr':'<f4','fortran_order':False,'shape':(1,)", 1, "expected ',' or '}'");
    expect_dict_fail("{'descr':'<f4','fortran_order':False,'shape':(1,)}}", 1, "unexpected bytes after the dict");
    {
        /* An embedded NUL is not padding. */
        static const char nul[] = "{'descr':'<f4','fortran_order':False,'shape':(1,)}\0";
        const float one = 1.0f;
        size_t len;
        unsigned char *b = mk_n(1, nul, sizeof nul, &one, sizeof one, &len);
        expect_fail(b, len, "unexpected bytes after the dict");
        free(b);
    }
    expect_dict_fail("{'descr':'<f4','fortran_order':False}", 1, "missing key 'shape'");
    expect_dict_fail("{'fortran_order':False,'shape':(1,)}", 1, "missing key 'descr'");
    expect_dict_fail("{'descr':'<f4','shape':(1,)}", 1, "missing key 'fortran_order'");
    expect_dict_fail("{}", 1, "missing key");
    expect_dict_fail("{,}", 1, "expected a quoted string");
    expect_dict_fail("{'descr':'<f4','descr':'<f4','fortran_order':False,'shape':(1,)}", 1, "duplicate key 'descr'");
    expect_dict_fail("{'descr':'<f4','fortran_order':False,'shape':(1,),'extra':1}", 1, "unexpected key 'extra'");
    expect_dict_fail("{'descr' '<f4','fortran_order':False,'shape':(1,)}", 1, "expected ':'");
    expect_dict_fail("{'descr':'<f4,'fortran_order':False,'shape':(1,)}", 1, "malformed header");
    expect_dict_fail("{'descr':'<f4','fortran_order':False,'shape':(1,)} x", 1, "unexpected bytes");
    expect_dict_fail("{'descr':'<f\\x34','fortran_order':False,'shape':(1,)}", 1, "unsupported character");
    expect_dict_fail("{'descr':'<f4", 1, "unterminated string");
}

static void test_too_many_dims(void **state)
{
    (void)state;
    expect_dict_fail("{'descr':'<f4','fortran_order':False,'shape':(1,1,1,1,1,1,1,1,1)}", 1,
                     "shape has more than 8 dimensions");
}

static void test_negative_dims(void **state)
{
    (void)state;
    expect_dict_fail("{'descr':'<f4','fortran_order':False,'shape':(-1,)}", 0, "negative dimension (-1)");
    expect_dict_fail("{'descr':'<f4','fortran_order':False,'shape':(2, -3)}", 0, "negative dimension");
}

static void test_huge_dims(void **state)
{
    (void)state;
    /* Does not fit int64 at all. */
    expect_dict_fail("{'descr':'<f4','fortran_order':False,'shape':(99999999999999999999,)}", 1,
                     "dimension too large");
    expect_dict_fail("{'descr':'<f4','fortran_order':False,'shape':(9223372036854775808,)}", 1,
                     "dimension too large");
    /* Fits int64, but times sizeof(float) overflows uint64. */
    expect_dict_fail("{'descr':'<f4','fortran_order':False,'shape':(4611686018427387904,)}", 1,
                     "shape (4611686018427387904,) is too large");
    /* Each dim is small; the product overflows. */
    expect_dict_fail("{'descr':'<f4','fortran_order':False,'shape':(4294967296, 4294967296)}", 1, "too large");
    expect_dict_fail("{'descr':'<f4','fortran_order':False,'shape':(65536,65536,65536,65536)}", 1, "too large");
    /* No overflow, but far more than the file holds. */
    expect_dict_fail("{'descr':'<f4','fortran_order':False,'shape':(9223372036854775807,)}", 1, "too large");
    expect_dict_fail("{'descr':'<f4','fortran_order':False,'shape':(1000000000, 1000000000)}", 1,
                     "truncated: header says 1000000000000000000 elements");
}

static void test_header_too_long(void **state)
{
    size_t hlen = ((size_t)1 << 20) + 1;
    unsigned char b[16] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0};

    (void)state;
    b[8] = (unsigned char)(hlen & 0xff);
    b[9] = (unsigned char)((hlen >> 8) & 0xff);
    b[10] = (unsigned char)((hlen >> 16) & 0xff);
    b[11] = (unsigned char)((hlen >> 24) & 0xff);
    expect_fail(b, sizeof b, "header too long (1048577 bytes, limit 1048576)");
    b[11] = 0xff; /* ~4 GiB claimed: must not be allocated or read */
    expect_fail(b, sizeof b, "header too long");
}

/* Every prefix and every single-byte corruption of a valid file must fail or
 * succeed cleanly (ASan/valgrind catch any out-of-bounds access). */
static void test_prefixes_and_mutations(void **state)
{
    unsigned char *b;
    size_t len = sizeof np_f32_2x3, i;
    static const unsigned char repl[] = {0x00, 0xff, '(', ')', ',', '\'', '{', '}', ':', '-', '9', ' ', '\n'};

    (void)state;
    for (i = 0; i < len; i++) {
        b = malloc(i ? i : 1); /* exact-size heap copy so overreads are caught */
        assert_non_null(b);
        memcpy(b, np_f32_2x3, i);
        expect_fail(b, i, "");
        free(b);
    }
    b = malloc(len);
    assert_non_null(b);
    for (i = 0; i < len; i++) {
        size_t k;
        for (k = 0; k < sizeof repl; k++) {
            float *data = NULL;
            int ndim;
            int64_t shape[NPY_MAX_DIMS];
            char err[ERRLEN];
            memcpy(b, np_f32_2x3, len);
            b[i] = repl[k];
            if (npy_parse_f32(b, len, &data, &ndim, shape, err, sizeof err) == 0) {
                assert_non_null(data);
                assert_true(ndim >= 0 && ndim <= NPY_MAX_DIMS);
                free(data);
            } else {
                assert_null(data);
                assert_true(err[0] != '\0');
            }
        }
    }
    free(b);
}

static void test_small_err_buffer(void **state)
{
    float *data;
    int ndim;
    int64_t shape[NPY_MAX_DIMS];
    char err[8];

    (void)state;
    memset(err, 'x', sizeof err);
    assert_int_equal(npy_parse_f32(np_f64, sizeof np_f64, &data, &ndim, shape, err, sizeof err), -1);
    assert_string_equal(err, "dtype i");
    /* errlen 0 and a NULL err must not be written. */
    assert_int_equal(npy_parse_f32(np_f64, sizeof np_f64, &data, &ndim, shape, err, 0), -1);
    assert_int_equal(npy_parse_f32(np_f64, sizeof np_f64, &data, &ndim, shape, NULL, 0), -1);
    assert_null(data);
}

/* ---- file reader ---------------------------------------------------------- */

static void test_read_errors(void **state)
{
    char path[4096], err[ERRLEN];
    float *data = (float *)&data;
    int ndim;
    int64_t shape[NPY_MAX_DIMS];

    path_in(state, "missing.npy", path, sizeof path);
    assert_int_equal(npy_read_f32(path, &data, &ndim, shape, err, sizeof err), -1);
    assert_null(data);
    assert_string_equal(err, "cannot open: No such file or directory");

    assert_int_equal(npy_read_f32((const char *)*state, &data, &ndim, shape, err, sizeof err), -1);
    assert_string_equal(err, "is a directory, not a regular file");

    /* A FIFO is refused at once, without waiting for a writer. */
    path_in(state, "fifo.npy", path, sizeof path);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(npy_read_f32(path, &data, &ndim, shape, err, sizeof err), -1);
    assert_string_equal(err, "is a FIFO, not a regular file");
    assert_int_equal(unlink(path), 0);

    path_in(state, "short.npy", path, sizeof path);
    write_bytes(path, np_f32_2x3, sizeof np_f32_2x3 - 8);
    assert_int_equal(npy_read_f32(path, &data, &ndim, shape, err, sizeof err), -1);
    assert_null(data);
    assert_string_equal(err, "truncated: header says 6 elements (24 bytes) but the file has 16 bytes of data "
                             "(at byte 144)");

    write_bytes(path, np_f32_2x3, 50);
    assert_int_equal(npy_read_f32(path, &data, &ndim, shape, err, sizeof err), -1);
    assert_string_equal(err, "truncated: header length is 118 bytes but only 40 bytes follow the preamble (at byte 50)");

    write_bytes(path, np_f32_2x3, 4);
    assert_int_equal(npy_read_f32(path, &data, &ndim, shape, err, sizeof err), -1);
    assert_string_equal(err, "truncated: file ends inside the .npy preamble (at byte 4)");

    write_bytes(path, "", 0);
    assert_int_equal(npy_read_f32(path, &data, &ndim, shape, err, sizeof err), -1);
    assert_string_equal(err, "not a .npy file (empty)");

    write_bytes(path, np_f64, sizeof np_f64);
    assert_int_equal(npy_read_f32(path, &data, &ndim, shape, err, sizeof err), -1);
    assert_string_equal(err, "dtype is '<f8', expected float32 ('<f4') (at byte 20)");

    write_bytes(path, np_f32_fortran, sizeof np_f32_fortran);
    assert_int_equal(npy_read_f32(path, &data, &ndim, shape, err, sizeof err), -1);
    assert_string_equal(err, "fortran_order is True, expected C order (at byte 44)");

    {
        unsigned char b[sizeof np_f32_2x3 + 3] = {0};
        memcpy(b, np_f32_2x3, sizeof np_f32_2x3);
        write_bytes(path, b, sizeof b);
        assert_int_equal(npy_read_f32(path, &data, &ndim, shape, err, sizeof err), -1);
        assert_string_equal(err,
                            "trailing garbage: header says 6 elements (24 bytes) but the file has 27 bytes of data "
                            "(at byte 152)");
    }
    assert_null(data);
}

/* ---- writer ------------------------------------------------------------------- */

static void test_write_missing_dir(void **state)
{
    char dir[4096], path[4096], err[ERRLEN];
    const float v[2] = {1, 2};
    const int64_t shape[1] = {2};
    struct stat st;

    path_in(state, "nope", dir, sizeof dir);
    path_in(state, "nope/a.npy", path, sizeof path);
    assert_int_equal(npy_write_f32(path, v, 1, shape, err, sizeof err), -1);
    assert_non_null(strstr(err, "No such file or directory"));
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(stat(dir, &st), -1);
    assert_int_equal(count_entries((const char *)*state), 0);
}

static void test_write_overwrite(void **state)
{
    char path[4096], err[ERRLEN];
    float big[1000], *data = NULL;
    const float small[2] = {3.0f, 4.0f};
    const int64_t sbig[1] = {1000}, ssmall[1] = {2};
    int64_t shape[NPY_MAX_DIMS];
    int ndim, i;
    struct stat st;

    for (i = 0; i < 1000; i++)
        big[i] = (float)i;
    path_in(state, "w.npy", path, sizeof path);
    assert_int_equal(npy_write_f32(path, big, 1, sbig, err, sizeof err), 0);
    assert_int_equal(npy_write_f32(path, small, 1, ssmall, err, sizeof err), 0);
    /* The file is replaced whole, not overwritten in place. */
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 128 + 8);
    assert_int_equal(npy_read_f32(path, &data, &ndim, shape, err, sizeof err), 0);
    assert_int_equal(ndim, 1);
    assert_int_equal(shape[0], 2);
    assert_memory_equal(data, small, sizeof small);
    free(data);
    assert_int_equal(count_entries((const char *)*state), 1);
}

static void test_write_failure_keeps_old_file(void **state)
{
    char path[4096], err[ERRLEN];
    const float v[2] = {1, 2};
    const int64_t shape[1] = {2}, neg[1] = {-1};
    size_t len;
    unsigned char *bytes;

    path_in(state, "keep.npy", path, sizeof path);
    write_bytes(path, np_f32_1d, sizeof np_f32_1d);

    /* Invalid arguments fail before touching anything. */
    assert_int_equal(npy_write_f32(path, v, 1, neg, err, sizeof err), -1);
    assert_non_null(strstr(err, "negative dimension"));
    assert_int_equal(npy_write_f32(path, v, 9, shape, err, sizeof err), -1);
    assert_int_equal(npy_write_f32(path, v, -1, shape, err, sizeof err), -1);
    assert_int_equal(npy_write_f32(path, NULL, 1, shape, err, sizeof err), -1);
    {
        const int64_t huge[2] = {INT64_MAX, INT64_MAX};
        assert_int_equal(npy_write_f32(path, v, 2, huge, err, sizeof err), -1);
        assert_non_null(strstr(err, "too large"));
    }

    /* rename fails when path is a non-empty directory: temp must be removed. */
    {
        char dpath[4096], inner[4096];
        path_in(state, "dir.npy", dpath, sizeof dpath);
        assert_int_equal(mkdir(dpath, 0700), 0);
        path_in(state, "dir.npy/x", inner, sizeof inner);
        write_bytes(inner, "x", 1);
        assert_int_equal(npy_write_f32(dpath, v, 1, shape, err, sizeof err), -1);
        assert_non_null(strstr(err, "cannot rename"));
        assert_int_equal(unlink(inner), 0);
        assert_int_equal(rmdir(dpath), 0);
    }

    bytes = slurp(path, &len);
    assert_int_equal(len, sizeof np_f32_1d);
    assert_memory_equal(bytes, np_f32_1d, len);
    free(bytes);
    assert_int_equal(count_entries((const char *)*state), 1);
}

/* A stale temporary (a killed run) neither blocks the write nor is
 * reused: temporaries have fresh names and are created with O_EXCL. */
static void test_write_over_stale_tmp(void **state)
{
    char path[4096], tmp[4200], err[ERRLEN];
    const float v[3] = {1.5f, -2.0f, 3.25f};
    const int64_t shape[1] = {3};
    size_t len;
    unsigned char *bytes;

    path_in(state, "s.npy", path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    write_bytes(tmp, "stale stale stale stale stale stale stale stale stale stale stale stale stale stale", 83);
    assert_int_equal(npy_write_f32(path, v, 1, shape, err, sizeof err), 0);
    bytes = slurp(path, &len);
    assert_int_equal(len, sizeof np_f32_1d);
    assert_memory_equal(bytes, np_f32_1d, len);
    free(bytes);
    /* The stale file is left as it was, and nothing else is. */
    assert_int_equal(count_entries((const char *)*state), 2);
    bytes = slurp(tmp, &len);
    assert_int_equal(len, 83);
    free(bytes);
}

/* npy_create_unique never opens what is there: a planted symbolic link at
 * the template's name stays untouched, the new file gets another name. */
static void test_create_unique(void **state)
{
    char target[4096], tmpl[4200], first[4200];
    path_in(state, "victim", target, sizeof target);
    write_bytes(target, "keep", 4);
    path_in(state, "t.XXXXXX", tmpl, sizeof tmpl);
    int fd = npy_create_unique(tmpl);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(strlen(tmpl), strlen(target) - strlen("victim") + strlen("t.XXXXXX"));
    assert_null(strstr(tmpl, "XXXXXX"));
    snprintf(first, sizeof first, "%s", tmpl);
    /* The same name again: O_EXCL moves on to another. */
    path_in(state, "t.XXXXXX", tmpl, sizeof tmpl);
    fd = npy_create_unique(tmpl);
    assert_true(fd >= 0);
    close(fd);
    assert_string_not_equal(tmpl, first);
    unlink(first);
    unlink(tmpl);
    size_t len;
    unsigned char *bytes = slurp(target, &len);
    assert_int_equal(len, 4);
    free(bytes);
    unlink(target);
    /* A template without XXXXXX is refused. */
    snprintf(tmpl, sizeof tmpl, "%s", "no-template");
    assert_int_equal(npy_create_unique(tmpl), -1);
    assert_int_equal(errno, EINVAL);
}

/* ---- shape formatting and rng ------------------------------------------- */

static void test_shape_str(void **state)
{
    char buf[64];
    const int64_t s3[3] = {2, 3, 4}, s1[1] = {5};

    (void)state;
    npy_shape_str(0, NULL, buf, sizeof buf);
    assert_string_equal(buf, "()");
    npy_shape_str(1, s1, buf, sizeof buf);
    assert_string_equal(buf, "(5,)");
    npy_shape_str(3, s3, buf, sizeof buf);
    assert_string_equal(buf, "(2, 3, 4)");
    npy_shape_str(9, s3, buf, sizeof buf);
    assert_string_equal(buf, "(?)");
    npy_shape_str(3, s3, buf, 5);
    assert_string_equal(buf, "(2, ");
    npy_shape_str(3, s3, buf, 1);
    assert_string_equal(buf, "");
    npy_shape_str(3, s3, buf, 0);
}

static void test_rng(void **state)
{
    rng a, b;
    int i;
    double lo = 1, hi = -1;

    (void)state;
    /* Reference outputs of splitmix64 seeded with 0. */
    rng_seed(&a, 0);
    assert_true(rng_next(&a) == UINT64_C(0xe220a8397b1dcdaf));
    assert_true(rng_next(&a) == UINT64_C(0x6e789e6aa1b965f4));
    assert_true(rng_next(&a) == UINT64_C(0x06c45d188009454f));

    rng_seed(&a, 1234);
    rng_seed(&b, 1234);
    for (i = 0; i < 10000; i++) {
        double u = rng_uniform(&a);
        float s = rng_sym(&a);
        assert_true(u >= 0.0 && u < 1.0);
        assert_true(s >= -1.0f && s < 1.0f);
        lo = s < lo ? s : lo;
        hi = s > hi ? s : hi;
        (void)rng_next(&b);
        (void)rng_next(&b);
    }
    assert_true(a.s == b.s); /* each call advances the state exactly once */
    assert_true(lo < -0.99 && hi > 0.99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip_0d, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_roundtrip_1d, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_roundtrip_2d, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_roundtrip_3d, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_roundtrip_3d_random, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_roundtrip_empty, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_roundtrip_8d, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_write_full_pad_like_numpy, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_read_numpy_files, setup_dir, teardown_dir),
        cmocka_unit_test(test_header_variants),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_truncated_header),
        cmocka_unit_test(test_truncated_data),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_wrong_dtype),
        cmocka_unit_test(test_fortran_order),
        cmocka_unit_test(test_bad_shape_syntax),
        cmocka_unit_test(test_bad_dict),
        cmocka_unit_test(test_too_many_dims),
        cmocka_unit_test(test_negative_dims),
        cmocka_unit_test(test_huge_dims),
        cmocka_unit_test(test_header_too_long),
        cmocka_unit_test(test_prefixes_and_mutations),
        cmocka_unit_test(test_small_err_buffer),
        cmocka_unit_test_setup_teardown(test_read_errors, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_write_missing_dir, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_write_overwrite, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_write_failure_keeps_old_file, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_create_unique, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_write_over_stale_tmp, setup_dir, teardown_dir),
        cmocka_unit_test(test_shape_str),
        cmocka_unit_test(test_rng),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* reserved.c - names generated C cannot give a tensor or a parameter
 * (see reserved.h).
 *
 * The macro list is every object-like macro without a leading underscore
 * that the headers of generated code define (math.h, stdint.h, stdlib.h,
 * string.h, stddef.h, stdio.h, sys/resource.h, sys/stat.h, time.h, omp.h),
 * with gcc 12 and clang 14, in GNU and in strict C11 + POSIX mode, plus
 * the predefined ones (linux, unix); taken once with `cc -dM -E` and kept
 * sorted here, so that check gives the same answer on every machine.
 */
#include "reserved.h"

#include <stdlib.h>
#include <string.h>

/* C keywords, C23's included (bool, true, nullptr, ...). */
static const char *const keywords[] = {
	"alignas", "alignof", "asm", "auto", "bool", "break", "case", "char", "const",
	"constexpr", "continue", "default", "do", "double", "else", "enum", "extern",
	"false", "float", "for", "goto", "if", "inline", "int", "long", "nullptr",
	"register", "restrict", "return", "short", "signed", "sizeof", "static",
	"static_assert", "struct", "switch", "thread_local", "true", "typedef",
	"typeof", "typeof_unqual", "union", "unsigned", "void", "volatile", "while",
};

/* Object-like macros of the C library headers generated code includes. */
static const char *const macros[] = {
	"ACCESSPERMS", "ALLPERMS", "BIG_ENDIAN", "BUFSIZ", "BYTE_ORDER",
	"CLOCKS_PER_SEC", "CLOCK_BOOTTIME", "CLOCK_BOOTTIME_ALARM", "CLOCK_MONOTONIC",
	"CLOCK_MONOTONIC_COARSE", "CLOCK_MONOTONIC_RAW", "CLOCK_PROCESS_CPUTIME_ID",
	"CLOCK_REALTIME", "CLOCK_REALTIME_ALARM", "CLOCK_REALTIME_COARSE", "CLOCK_TAI",
	"CLOCK_THREAD_CPUTIME_ID", "DEFFILEMODE", "EOF", "EXIT_FAILURE",
	"EXIT_SUCCESS", "FD_SETSIZE", "FILENAME_MAX", "FOPEN_MAX", "FP_FAST_FMA",
	"FP_FAST_FMAF", "FP_ILOGB0", "FP_ILOGBNAN", "FP_INFINITE", "FP_NAN",
	"FP_NORMAL", "FP_SUBNORMAL", "FP_ZERO", "HUGE_VAL", "HUGE_VALF", "HUGE_VALL",
	"INFINITY", "INT16_MAX", "INT16_MIN", "INT32_MAX", "INT32_MIN", "INT64_MAX",
	"INT64_MIN", "INT8_MAX", "INT8_MIN", "INTMAX_MAX", "INTMAX_MIN", "INTPTR_MAX",
	"INTPTR_MIN", "INT_FAST16_MAX", "INT_FAST16_MIN", "INT_FAST32_MAX",
	"INT_FAST32_MIN", "INT_FAST64_MAX", "INT_FAST64_MIN", "INT_FAST8_MAX",
	"INT_FAST8_MIN", "INT_LEAST16_MAX", "INT_LEAST16_MIN", "INT_LEAST32_MAX",
	"INT_LEAST32_MIN", "INT_LEAST64_MAX", "INT_LEAST64_MIN", "INT_LEAST8_MAX",
	"INT_LEAST8_MIN", "KMP_BUILD_DATE", "KMP_VERSION_BUILD", "KMP_VERSION_MAJOR",
	"KMP_VERSION_MINOR", "LITTLE_ENDIAN", "L_ctermid", "L_tmpnam",
	"MATH_ERREXCEPT", "MATH_ERRNO", "MB_CUR_MAX", "M_1_PI", "M_2_PI", "M_2_SQRTPI",
	"M_E", "M_LN10", "M_LN2", "M_LOG10E", "M_LOG2E", "M_PI", "M_PI_2", "M_PI_4",
	"M_SQRT1_2", "M_SQRT2", "NAN", "NFDBITS", "NULL", "PDP_ENDIAN", "PRIO_MAX",
	"PRIO_MIN", "PRIO_PGRP", "PRIO_PROCESS", "PRIO_USER", "PTRDIFF_MAX",
	"PTRDIFF_MIN", "P_tmpdir", "RAND_MAX", "RLIMIT_AS", "RLIMIT_CORE",
	"RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_LOCKS", "RLIMIT_MEMLOCK",
	"RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NLIMITS", "RLIMIT_NOFILE",
	"RLIMIT_NPROC", "RLIMIT_OFILE", "RLIMIT_RSS", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
	"RLIMIT_SIGPENDING", "RLIMIT_STACK", "RLIM_INFINITY", "RLIM_NLIMITS",
	"RLIM_SAVED_CUR", "RLIM_SAVED_MAX", "RUSAGE_CHILDREN", "RUSAGE_SELF",
	"SEEK_CUR", "SEEK_END", "SEEK_SET", "SIG_ATOMIC_MAX", "SIG_ATOMIC_MIN",
	"SIZE_MAX", "S_BLKSIZE", "S_IEXEC", "S_IFBLK", "S_IFCHR", "S_IFDIR", "S_IFIFO",
	"S_IFLNK", "S_IFMT", "S_IFREG", "S_IFSOCK", "S_IREAD", "S_IRGRP", "S_IROTH",
	"S_IRUSR", "S_IRWXG", "S_IRWXO", "S_IRWXU", "S_ISGID", "S_ISUID", "S_ISVTX",
	"S_IWGRP", "S_IWOTH", "S_IWRITE", "S_IWUSR", "S_IXGRP", "S_IXOTH", "S_IXUSR",
	"TIMER_ABSTIME", "TIME_UTC", "TMP_MAX", "UINT16_MAX", "UINT32_MAX",
	"UINT64_MAX", "UINT8_MAX", "UINTMAX_MAX", "UINTPTR_MAX", "UINT_FAST16_MAX",
	"UINT_FAST32_MAX", "UINT_FAST64_MAX", "UINT_FAST8_MAX", "UINT_LEAST16_MAX",
	"UINT_LEAST32_MAX", "UINT_LEAST64_MAX", "UINT_LEAST8_MAX", "UTIME_NOW",
	"UTIME_OMIT", "WCHAR_MAX", "WCHAR_MIN", "WCONTINUED", "WEXITED", "WINT_MAX",
	"WINT_MIN", "WNOHANG", "WNOWAIT", "WSTOPPED", "WUNTRACED", "linux",
	"math_errhandling", "omp_atv_default", "omp_capture_affinity",
	"omp_display_affinity", "omp_get_affinity_format", "omp_interop_none",
	"omp_set_affinity_format", "st_atime", "st_ctime", "st_mtime", "stderr",
	"stdin", "stdout", "unix",
};

/* Fields of the generated NAME_args structure, and the name of its
 * variable in the kernel and the driver. */
static const char *const generated[] = {"a", "workspace", "workspace_bytes"};

static int cmp_name(const void *key, const void *elem)
{
	return strcmp((const char *)key, *(const char *const *)elem);
}

static int in(const char *name, const char *const *list, size_t n)
{
	return bsearch(name, list, n, sizeof(*list), cmp_name) != NULL;
}

const char *ein_reserved(const char *name)
{
	if (in(name, keywords, sizeof(keywords) / sizeof(keywords[0])))
		return "is a C keyword";
	if (name[0] == '_' && (name[1] == '_' || (name[1] >= 'A' && name[1] <= 'Z')))
		return "is reserved by C (an underscore and a capital letter, or two "
		       "underscores)";
	if (!strncmp(name, "ML_", 3))
		return "is reserved for the kernels' runtime (ML_...)";
	if (in(name, macros, sizeof(macros) / sizeof(macros[0])))
		return "is a macro of the C library headers that generated code includes";
	for (size_t i = 0; i < sizeof(generated) / sizeof(generated[0]); i++)
		if (!strcmp(name, generated[i]))
			return "is a name of the generated code's own (NAME_args)";
	return NULL;
}

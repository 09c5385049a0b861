/* ml_npy.c - reading and writing NumPy .npy files holding float32 data.
 *
 * Format reference: numpy/lib/format.py ("NPY format"). A file is
 *   "\x93NUMPY" major minor headerlen header data
 * where headerlen is uint16 LE (v1) or uint32 LE (v2, v3) and header is a
 * Python dict literal with keys 'descr', 'fortran_order' and 'shape'. The
 * header is parsed by a small bounded scanner (no recursion, no eval) since
 * the reader is fuzzed and must survive any input. */
#define _POSIX_C_SOURCE 200809L /* O_CLOEXEC, O_NOFOLLOW, O_DIRECTORY, fsync, clock_gettime */

#include "ml_npy.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NPY_MAGIC_LEN 6
#define NPY_MAX_HEADER_LEN ((size_t)1 << 20)
#define NPY_DESCR_MAX 64      /* longer descr strings are certainly not '<f4' */
#define NPY_ALIGN 64          /* numpy's ARRAY_ALIGN */
#define NPY_GROWTH_DIGITS 21  /* numpy's GROWTH_AXIS_MAX_DIGITS */
#define NPY_SHAPE_STR_MAX 256 /* 8 dims of up to 20 digits plus separators */
#define NPY_IO_CHUNK ((size_t)1 << 30)

static const unsigned char npy_magic[NPY_MAGIC_LEN] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* What the header dict said; filled by parse_header. */
struct npy_header {
    char descr[NPY_DESCR_MAX + 1];
    int fortran_order;
    int ndim;
    int64_t shape[NPY_MAX_DIMS];
    /* Byte offsets in the file of the three values, for messages. */
    size_t descr_off, fortran_off, shape_off;
};

/* Cursor over the header text; every access checks p < end. */
struct scan {
    const unsigned char *p;
    const unsigned char *end;
};

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Appends " (at byte N)" to the message in err: every rejection of a file
 * says where in it the problem is (docs/reliability.md). */
static void add_offset(char *err, size_t errlen, uint64_t off)
{
    size_t n;

    if (err == NULL || errlen == 0)
        return;
    n = strlen(err);
    if (n + 1 < errlen)
        snprintf(err + n, errlen - n, " (at byte %" PRIu64 ")", off);
}

/* Copies at most outlen-1 bytes of s into out, replacing anything that is not
 * printable ASCII so messages stay one clean line whatever the file holds. */
static void sanitize(const unsigned char *s, size_t n, char *out, size_t outlen)
{
    size_t i;

    if (outlen == 0)
        return;
    for (i = 0; i < n && i + 1 < outlen; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
    out[i] = '\0';
}

void npy_shape_str(int ndim, const int64_t *shape, char *buf, size_t len)
{
    size_t used = 0;
    int i;

    if (buf == NULL || len == 0)
        return;
    buf[0] = '\0';
    if (ndim < 0 || ndim > NPY_MAX_DIMS || (ndim > 0 && shape == NULL)) {
        snprintf(buf, len, "(?)");
        return;
    }
    /* snprintf truncates safely; stop appending once the buffer is full. */
    used += (size_t)snprintf(buf + used, len - used, "(");
    for (i = 0; i < ndim && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (used < len)
        snprintf(buf + used, len - used, ndim == 1 ? ",)" : ")");
}

/* ---- header scanner ---------------------------------------------------- */

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && is_ws(*s->p))
        s->p++;
}

/* Consumes c if it is next; returns 1 if it was. */
static int accept(struct scan *s, unsigned char c)
{
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* Scans a quoted Python string literal without escapes (numpy never writes
 * any in these keys/values). Sets *str and *n to the contents. */
static int scan_string(struct scan *s, const unsigned char **str, size_t *n, char *err, size_t errlen)
{
    unsigned char q;
    const unsigned char *start;

    if (s->p >= s->end || (*s->p != '\'' && *s->p != '"')) {
        set_err(err, errlen, "malformed header: expected a quoted string");
        return -1;
    }
    q = *s->p++;
    start = s->p;
    while (s->p < s->end && *s->p != q) {
        if (*s->p == '\\' || *s->p == '\n') {
            set_err(err, errlen, "malformed header: unsupported character in string");
            return -1;
        }
        s->p++;
    }
    if (s->p >= s->end) {
        set_err(err, errlen, "malformed header: unterminated string");
        return -1;
    }
    *str = start;
    *n = (size_t)(s->p - start);
    s->p++; /* closing quote */
    return 0;
}

static int scan_descr(struct scan *s, struct npy_header *h, char *err, size_t errlen)
{
    const unsigned char *str;
    size_t n;

    /* A list here means a structured dtype, which is never float32. */
    if (s->p < s->end && *s->p == '[') {
        set_err(err, errlen, "dtype is a structured type, expected float32 ('<f4')");
        return -1;
    }
    if (scan_string(s, &str, &n, err, errlen) != 0)
        return -1;
    if (n > NPY_DESCR_MAX) {
        set_err(err, errlen, "dtype string is too long (%zu bytes), expected float32 ('<f4')", n);
        return -1;
    }
    memcpy(h->descr, str, n);
    h->descr[n] = '\0';
    return 0;
}

static int scan_bool(struct scan *s, int *out, char *err, size_t errlen)
{
    const unsigned char *start = s->p;
    size_t n;

    while (s->p < s->end && ((*s->p >= 'a' && *s->p <= 'z') || (*s->p >= 'A' && *s->p <= 'Z')))
        s->p++;
    n = (size_t)(s->p - start);
    if (n == 4 && memcmp(start, "True", 4) == 0) {
        *out = 1;
        return 0;
    }
    if (n == 5 && memcmp(start, "False", 5) == 0) {
        *out = 0;
        return 0;
    }
    set_err(err, errlen, "malformed header: fortran_order must be True or False");
    return -1;
}

/* Scans one dimension: optional '-', then decimal digits, range-checked. */
static int scan_dim(struct scan *s, int64_t *out, char *err, size_t errlen)
{
    int neg = accept(s, '-');
    int64_t v = 0;
    int digits = 0;

    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        int d = *s->p - '0';
        if (v > (INT64_MAX - d) / 10) {
            set_err(err, errlen, "shape has a dimension too large for int64");
            return -1;
        }
        v = v * 10 + d;
        digits++;
        s->p++;
    }
    if (digits == 0) {
        set_err(err, errlen, "malformed header: bad shape syntax (expected an integer)");
        return -1;
    }
    if (neg && v != 0) {
        set_err(err, errlen, "shape has a negative dimension (-%" PRId64 ")", v);
        return -1;
    }
    *out = v;
    return 0;
}

/* Scans a Python tuple of ints: (), (3,), (2, 3), (2, 3,). "(3)" is an int in
 * Python, not a tuple, so numpy would reject it and so do we. */
static int scan_shape(struct scan *s, struct npy_header *h, char *err, size_t errlen)
{
    int n = 0;

    if (!accept(s, '(')) {
        set_err(err, errlen, "malformed header: bad shape syntax (expected a tuple)");
        return -1;
    }
    skip_ws(s);
    if (accept(s, ')')) {
        h->ndim = 0;
        return 0;
    }
    for (;;) {
        int64_t d;

        if (n == NPY_MAX_DIMS) {
            set_err(err, errlen, "shape has more than %d dimensions", NPY_MAX_DIMS);
            return -1;
        }
        if (scan_dim(s, &d, err, errlen) != 0)
            return -1;
        h->shape[n++] = d;
        skip_ws(s);
        if (accept(s, ',')) {
            skip_ws(s);
            if (accept(s, ')'))
                break;
            continue;
        }
        if (accept(s, ')')) {
            if (n == 1) {
                set_err(err, errlen, "malformed header: bad shape syntax ((n) is not a tuple, expected (n,))");
                return -1;
            }
            break;
        }
        set_err(err, errlen, "malformed header: bad shape syntax (expected ',' or ')')");
        return -1;
    }
    h->ndim = n;
    return 0;
}

static int key_is(const unsigned char *k, size_t n, const char *name)
{
    return n == strlen(name) && memcmp(k, name, n) == 0;
}

/* Parses the header dict text (exactly hlen bytes, not NUL-terminated),
 * which starts at byte base of the file. */
static int parse_dict(struct scan *sp, size_t base, struct npy_header *h, char *err, size_t errlen);

static int parse_header(const unsigned char *text, size_t hlen, size_t base, struct npy_header *h, char *err,
                        size_t errlen)
{
    struct scan s = {text, text + hlen};

    memset(h, 0, sizeof *h);
    if (parse_dict(&s, base, h, err, errlen) != 0) {
        add_offset(err, errlen, (uint64_t)base + (uint64_t)(s.p - text));
        return -1;
    }
    return 0;
}

static int parse_dict(struct scan *sp, size_t base, struct npy_header *h, char *err, size_t errlen)
{
    const unsigned char *text = sp->p;
    int have_descr = 0, have_fortran = 0, have_shape = 0;

    skip_ws(sp);
    if (!accept(sp, '{')) {
        set_err(err, errlen, "malformed header: expected '{'");
        return -1;
    }
    for (;;) {
        const unsigned char *key;
        size_t klen;
        int rc;

        skip_ws(sp);
        if (accept(sp, '}'))
            break;
        if (scan_string(sp, &key, &klen, err, errlen) != 0)
            return -1;
        skip_ws(sp);
        if (!accept(sp, ':')) {
            set_err(err, errlen, "malformed header: expected ':' after key");
            return -1;
        }
        skip_ws(sp);
        {
            size_t off = base + (size_t)(sp->p - text);
            if (key_is(key, klen, "descr"))
                h->descr_off = off;
            else if (key_is(key, klen, "fortran_order"))
                h->fortran_off = off;
            else if (key_is(key, klen, "shape"))
                h->shape_off = off;
        }
        if (key_is(key, klen, "descr")) {
            rc = have_descr++ ? -2 : scan_descr(sp, h, err, errlen);
        } else if (key_is(key, klen, "fortran_order")) {
            rc = have_fortran++ ? -2 : scan_bool(sp, &h->fortran_order, err, errlen);
        } else if (key_is(key, klen, "shape")) {
            rc = have_shape++ ? -2 : scan_shape(sp, h, err, errlen);
        } else {
            char name[40];
            sanitize(key, klen, name, sizeof name);
            set_err(err, errlen, "malformed header: unexpected key '%s'", name);
            return -1;
        }
        if (rc == -2) {
            char name[40];
            sanitize(key, klen, name, sizeof name);
            set_err(err, errlen, "malformed header: duplicate key '%s'", name);
            return -1;
        }
        if (rc != 0)
            return -1;
        skip_ws(sp);
        if (accept(sp, ','))
            continue;
        if (accept(sp, '}'))
            break;
        set_err(err, errlen, "malformed header: expected ',' or '}'");
        return -1;
    }
    /* numpy pads with spaces and ends with '\n'; anything else is garbage. */
    skip_ws(sp);
    if (sp->p != sp->end) {
        set_err(err, errlen, "malformed header: unexpected bytes after the dict");
        return -1;
    }
    if (!have_descr || !have_fortran || !have_shape) {
        set_err(err, errlen, "malformed header: missing key '%s'",
                !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");
        return -1;
    }
    return 0;
}

/* ---- structure checks shared by the memory and file readers ------------ */

/* Reads magic, version and header length from the first len bytes. Needs
 * 10 bytes for v1 and 12 for v2/v3; sets *hoff to where the dict starts. */
static int parse_preamble(const unsigned char *buf, size_t len, size_t *hoff, size_t *hlen, char *err,
                          size_t errlen)
{
    unsigned major, minor;

    if (len == 0) {
        set_err(err, errlen, "not a .npy file (empty)");
        return -1;
    }
    /* A short prefix of the magic is a truncated file, not a foreign one. */
    if (memcmp(buf, npy_magic, len < NPY_MAGIC_LEN ? len : NPY_MAGIC_LEN) != 0) {
        size_t i = 0;
        while (buf[i] == npy_magic[i])
            i++;
        set_err(err, errlen, "not a .npy file (bad magic)");
        add_offset(err, errlen, i);
        return -1;
    }
    if (len < NPY_MAGIC_LEN + 2) {
        set_err(err, errlen, "truncated: file ends inside the .npy preamble");
        add_offset(err, errlen, len);
        return -1;
    }
    major = buf[6];
    minor = buf[7];
    if ((major != 1 && major != 2 && major != 3) || minor != 0) {
        set_err(err, errlen, "unsupported .npy format version %u.%u (expected 1.0, 2.0 or 3.0)", major, minor);
        add_offset(err, errlen, 6);
        return -1;
    }
    *hoff = major == 1 ? 10 : 12;
    if (len < *hoff) {
        set_err(err, errlen, "truncated: file ends inside the .npy preamble");
        add_offset(err, errlen, len);
        return -1;
    }
    if (major == 1)
        *hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
    else
        *hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
    if (*hlen > NPY_MAX_HEADER_LEN) {
        set_err(err, errlen, "header too long (%zu bytes, limit %zu)", *hlen, NPY_MAX_HEADER_LEN);
        add_offset(err, errlen, 8);
        return -1;
    }
    return 0;
}

/* total is the whole input size; the header must fit inside it. */
static int check_header_fits(size_t hoff, size_t hlen, uint64_t total, char *err, size_t errlen)
{
    /* total < hoff only if a file grew between fstat and read. */
    if (total < hoff || (uint64_t)hlen > total - hoff) {
        set_err(err, errlen, "truncated: header length is %zu bytes but only %" PRIu64 " bytes follow the preamble",
                hlen, total < hoff ? 0 : total - hoff);
        add_offset(err, errlen, total);
        return -1;
    }
    return 0;
}

/* Checks dtype and order, then that the shape's byte size is exactly
 * data_len (rejecting truncation, trailing garbage and overflow). */
static int check_array(const struct npy_header *h, uint64_t data_off, uint64_t data_len, size_t *nbytes, char *err,
                       size_t errlen)
{
    uint64_t count = 1;
    int i, zero = 0;

    if (strcmp(h->descr, "<f4") != 0) {
        char d[NPY_DESCR_MAX + 1];
        sanitize((const unsigned char *)h->descr, strlen(h->descr), d, sizeof d);
        set_err(err, errlen, "dtype is '%s', expected float32 ('<f4')", d);
        add_offset(err, errlen, h->descr_off);
        return -1;
    }
    if (h->fortran_order) {
        set_err(err, errlen, "fortran_order is True, expected C order");
        add_offset(err, errlen, h->fortran_off);
        return -1;
    }
    /* A zero dimension makes the array empty whatever the others say. */
    for (i = 0; i < h->ndim; i++)
        zero |= h->shape[i] == 0;
    if (zero)
        count = 0;
    for (i = 0; i < h->ndim && !zero; i++) {
        uint64_t d = (uint64_t)h->shape[i];
        if (count > (UINT64_MAX / sizeof(float)) / d) {
            char sh[NPY_SHAPE_STR_MAX];
            npy_shape_str(h->ndim, h->shape, sh, sizeof sh);
            set_err(err, errlen, "shape %s is too large (byte size overflows)", sh);
            add_offset(err, errlen, h->shape_off);
            return -1;
        }
        count *= d;
    }
    if (count * sizeof(float) > data_len) {
        set_err(err, errlen,
                "truncated: header says %" PRIu64 " elements (%" PRIu64 " bytes) but the file has %" PRIu64
                " bytes of data",
                count, count * sizeof(float), data_len);
        add_offset(err, errlen, data_off + data_len); /* the end of the file */
        return -1;
    }
    if (count * sizeof(float) < data_len) {
        set_err(err, errlen,
                "trailing garbage: header says %" PRIu64 " elements (%" PRIu64 " bytes) but the file has %" PRIu64
                " bytes of data",
                count, count * sizeof(float), data_len);
        add_offset(err, errlen, data_off + count * sizeof(float)); /* the first extra byte */
        return -1;
    }
    if (count * sizeof(float) > SIZE_MAX) { /* only reachable on 32-bit hosts */
        set_err(err, errlen, "array too large for this machine");
        return -1;
    }
    *nbytes = (size_t)(count * sizeof(float));
    return 0;
}

int npy_parse_f32(const unsigned char *buf, size_t len, float **data, int *ndim, int64_t shape[NPY_MAX_DIMS],
                  char *err, size_t errlen)
{
    int rc = -1;
    float *out = NULL;
    struct npy_header h;
    size_t hoff, hlen, nbytes;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (data == NULL || ndim == NULL || shape == NULL || (buf == NULL && len > 0)) {
        set_err(err, errlen, "invalid argument");
        goto cleanup;
    }
    *data = NULL;
    *ndim = 0;
    if (parse_preamble(buf, len, &hoff, &hlen, err, errlen) != 0)
        goto cleanup;
    if (check_header_fits(hoff, hlen, len, err, errlen) != 0)
        goto cleanup;
    if (parse_header(buf + hoff, hlen, hoff, &h, err, errlen) != 0)
        goto cleanup;
    if (check_array(&h, hoff + hlen, len - hoff - hlen, &nbytes, err, errlen) != 0)
        goto cleanup;
    /* Never malloc(0): callers may treat NULL as failure. */
    out = malloc(nbytes ? nbytes : 1);
    if (out == NULL) {
        set_err(err, errlen, "out of memory (%zu bytes)", nbytes);
        goto cleanup;
    }
    /* The data offset need not be float-aligned in buf, so copy bytes. */
    memcpy(out, buf + hoff + hlen, nbytes);
    *data = out;
    *ndim = h.ndim;
    memcpy(shape, h.shape, sizeof(int64_t) * (size_t)h.ndim);
    rc = 0;
cleanup:
    return rc;
}

/* ---- file I/O ---------------------------------------------------------- */

/* Reads up to n bytes, retrying short reads and EINTR; *got < n means EOF. */
static int read_full(int fd, void *buf, size_t n, size_t *got)
{
    unsigned char *p = buf;

    *got = 0;
    while (*got < n) {
        size_t want = n - *got < NPY_IO_CHUNK ? n - *got : NPY_IO_CHUNK;
        ssize_t r = read(fd, p + *got, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t n)
{
    const unsigned char *p = buf;

    while (n > 0) {
        ssize_t w = write(fd, p, n < NPY_IO_CHUNK ? n : NPY_IO_CHUNK);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int npy_read_f32(const char *path, float **data, int *ndim, int64_t shape[NPY_MAX_DIMS], char *err,
                 size_t errlen)
{
    int rc = -1, fd = -1;
    unsigned char pre[12];
    unsigned char *text = NULL;
    float *out = NULL;
    struct npy_header h;
    struct stat st;
    size_t got, hoff, hlen, nbytes;
    uint64_t fsize;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL || data == NULL || ndim == NULL || shape == NULL) {
        set_err(err, errlen, "invalid argument");
        goto cleanup;
    }
    *data = NULL;
    *ndim = 0;
    /* O_NONBLOCK: a FIFO without a writer must not block the open; the
     * file type is checked next. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        set_err(err, errlen, "cannot open: %s", strerror(errno));
        goto cleanup;
    }
    /* The size check against the header needs a real file size. */
    if (fstat(fd, &st) != 0) {
        set_err(err, errlen, "cannot stat: %s", strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode)) {
        set_err(err, errlen, "is %s, not a regular file",
                S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO"
                : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : "a special file");
        goto cleanup;
    }
    {
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
            (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    }
    fsize = (uint64_t)st.st_size;
    if (read_full(fd, pre, sizeof pre, &got) != 0) {
        set_err(err, errlen, "read error: %s", strerror(errno));
        goto cleanup;
    }
    if (parse_preamble(pre, got, &hoff, &hlen, err, errlen) != 0)
        goto cleanup;
    if (check_header_fits(hoff, hlen, fsize, err, errlen) != 0)
        goto cleanup;
    /* Read header and data separately so big arrays are not held twice. */
    text = malloc(hlen ? hlen : 1);
    if (text == NULL) {
        set_err(err, errlen, "out of memory (%zu bytes)", hlen);
        goto cleanup;
    }
    if (lseek(fd, (off_t)hoff, SEEK_SET) < 0 || read_full(fd, text, hlen, &got) != 0) {
        set_err(err, errlen, "read error: %s", strerror(errno));
        goto cleanup;
    }
    if (got < hlen) {
        set_err(err, errlen, "truncated: file shrank while reading the header");
        goto cleanup;
    }
    if (parse_header(text, hlen, hoff, &h, err, errlen) != 0)
        goto cleanup;
    if (check_array(&h, hoff + hlen, fsize - hoff - hlen, &nbytes, err, errlen) != 0)
        goto cleanup;
    out = malloc(nbytes ? nbytes : 1);
    if (out == NULL) {
        set_err(err, errlen, "out of memory (%zu bytes)", nbytes);
        goto cleanup;
    }
    if (read_full(fd, out, nbytes, &got) != 0) {
        set_err(err, errlen, "read error: %s", strerror(errno));
        goto cleanup;
    }
    if (got < nbytes) {
        set_err(err, errlen, "truncated: file shrank while reading the data");
        goto cleanup;
    }
    /* The size was checked via fstat; make sure it did not grow since. */
    if (read_full(fd, pre, 1, &got) != 0 || got != 0) {
        set_err(err, errlen, "trailing garbage: file grew while reading the data");
        goto cleanup;
    }
    *data = out;
    out = NULL;
    *ndim = h.ndim;
    memcpy(shape, h.shape, sizeof(int64_t) * (size_t)h.ndim);
    rc = 0;
cleanup:
    free(out);
    free(text);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Builds the full numpy v1.0 preamble + header into hdr (size cap) exactly as
 * numpy's _write_array_header does: sorted-key dict repr, room for the first
 * axis to grow to 21 digits, then spaces and '\n' up to a 64-byte boundary. */
static size_t build_header(int ndim, const int64_t *shape, unsigned char *hdr, size_t cap)
{
    char sh[NPY_SHAPE_STR_MAX];
    size_t dict_len, grow = 0, pad, hlen;
    int n;

    npy_shape_str(ndim, shape, sh, sizeof sh);
    n = snprintf((char *)hdr + 10, cap - 10, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", sh);
    dict_len = (size_t)n;
    if (ndim > 0) {
        char first[24];
        size_t flen = (size_t)snprintf(first, sizeof first, "%" PRId64, shape[0]);
        grow = NPY_GROWTH_DIGITS - flen; /* flen <= 19 for non-negative int64 */
    }
    /* numpy always pads, a full NPY_ALIGN bytes when already aligned. */
    pad = NPY_ALIGN - (10 + dict_len + grow + 1) % NPY_ALIGN;
    hlen = dict_len + grow + pad + 1;
    memset(hdr + 10 + dict_len, ' ', grow + pad);
    hdr[10 + hlen - 1] = '\n';
    memcpy(hdr, npy_magic, NPY_MAGIC_LEN);
    hdr[6] = 1;
    hdr[7] = 0;
    hdr[8] = (unsigned char)(hlen & 0xff);
    hdr[9] = (unsigned char)(hlen >> 8);
    return 10 + hlen;
}

/* Best effort: makes the rename itself durable. Failure is not reported
 * because the new file is already complete and in place. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    int fd;

    if (slash == NULL) {
        fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        dir = malloc(n + 1);
        if (dir == NULL)
            return;
        memcpy(dir, path, n);
        dir[n] = '\0';
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

int npy_create_unique(char *tmpl)
{
    static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t n = strlen(tmpl);
    int attempt;

    if (n < 6 || strcmp(tmpl + n - 6, "XXXXXX") != 0) {
        errno = EINVAL;
        return -1;
    }
    for (attempt = 0; attempt < 1000; attempt++) {
        /* Not secret, only distinct: the pid, the time, the attempt.  O_EXCL
         * makes a clash (another writer, a planted file or symbolic link)
         * one more attempt, never an open of something already there. */
        struct timespec ts;
        uint64_t x;
        int k, fd;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        x = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
            (uint64_t)(uintptr_t)&ts ^ ((uint64_t)attempt * 0x9e3779b97f4a7c15ull);
        x *= 0xbf58476d1ce4e5b9ull;
        x ^= x >> 31;
        for (k = 0; k < 6; k++) {
            tmpl[n - 6 + k] = letters[x % (sizeof letters - 1)];
            x /= sizeof letters - 1;
        }
        fd = open(tmpl, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

int npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape, char *err,
                  size_t errlen)
{
    int rc = -1, fd = -1, tmp_exists = 0;
    char *tmp = NULL;
    unsigned char hdr[10 + NPY_SHAPE_STR_MAX + 64 + NPY_GROWTH_DIGITS + NPY_ALIGN + 1];
    size_t hdr_len, tmp_size;
    uint64_t count = 1;
    int i, zero = 0, close_rc;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL || ndim < 0 || ndim > NPY_MAX_DIMS || (ndim > 0 && shape == NULL)) {
        set_err(err, errlen, "invalid argument (ndim must be 0..%d)", NPY_MAX_DIMS);
        goto cleanup;
    }
    for (i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            set_err(err, errlen, "shape has a negative dimension (%" PRId64 ")", shape[i]);
            goto cleanup;
        }
        zero |= shape[i] == 0;
    }
    for (i = 0; i < ndim && !zero; i++) {
        if (count > (UINT64_MAX / sizeof(float)) / (uint64_t)shape[i] ||
            count * (uint64_t)shape[i] * sizeof(float) > SIZE_MAX) {
            set_err(err, errlen, "shape is too large (byte size overflows)");
            goto cleanup;
        }
        count *= (uint64_t)shape[i];
    }
    if (zero)
        count = 0;
    if (data == NULL && count > 0) {
        set_err(err, errlen, "invalid argument (data is NULL)");
        goto cleanup;
    }
    hdr_len = build_header(ndim, shape, hdr, sizeof hdr);

    tmp_size = strlen(path) + 32;
    tmp = malloc(tmp_size);
    if (tmp == NULL) {
        set_err(err, errlen, "out of memory");
        goto cleanup;
    }
    snprintf(tmp, tmp_size, "%s.tmp.XXXXXX", path);
    fd = npy_create_unique(tmp);
    if (fd < 0) {
        set_err(err, errlen, "cannot create temporary file: %s", strerror(errno));
        goto cleanup;
    }
    tmp_exists = 1;
    if (write_full(fd, hdr, hdr_len) != 0 || write_full(fd, data, (size_t)(count * sizeof(float))) != 0) {
        set_err(err, errlen, "write error: %s", strerror(errno));
        goto cleanup;
    }
    if (fsync(fd) != 0) {
        set_err(err, errlen, "fsync failed: %s", strerror(errno));
        goto cleanup;
    }
    /* close can report delayed write errors (e.g. NFS), so check it. */
    close_rc = close(fd);
    fd = -1;
    if (close_rc != 0) {
        set_err(err, errlen, "close failed: %s", strerror(errno));
        goto cleanup;
    }
    if (rename(tmp, path) != 0) {
        set_err(err, errlen, "cannot rename temporary file into place: %s", strerror(errno));
        goto cleanup;
    }
    tmp_exists = 0;
    sync_parent_dir(path);
    rc = 0;
cleanup:
    if (fd >= 0)
        close(fd);
    if (tmp_exists)
        unlink(tmp);
    free(tmp);
    return rc;
}

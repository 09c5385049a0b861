/* units.h - quantities as people read them: bytes (decimal and binary
 * prefixes) and times, with three or four significant digits.  Used by the
 * plan's text output and the report, so both say the same thing. */
#ifndef MAMBALAYA_UNITS_H
#define MAMBALAYA_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* "9.76 MB" (powers of 1000), "512 B". */
void units_bytes(double b, char *buf, size_t len);
/* "2.22 MiB", "579 KiB" (powers of 1024), for buffer sizes. */
void units_mib(double b, char *buf, size_t len);
/* "4.915 us", "16.04 ms", "1.2 s". */
void units_time(double s, char *buf, size_t len);

/* Parses a non-negative integer with an optional K/M/G suffix (powers of
 * 1024), as --buffer and sweep specs take sizes.  Returns 0 or -1. */
int units_parse_size(const char *s, int64_t *out);

#endif

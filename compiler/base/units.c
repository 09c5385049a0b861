/* units.c - quantities as people read them (see units.h). */
#include "units.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

void units_bytes(double b, char *buf, size_t len)
{
	const char *units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	int u = 0;
	while (b >= 1000 && u < 5) {
		b /= 1000;
		u++;
	}
	snprintf(buf, len, u ? "%.3g %s" : "%.0f %s", b, units[u]);
}

void units_mib(double b, char *buf, size_t len)
{
	if (b >= 1024.0 * 1024.0 * 1024.0)
		snprintf(buf, len, "%.3g GiB", b / (1024.0 * 1024.0 * 1024.0));
	else if (b >= 1024.0 * 1024.0)
		snprintf(buf, len, "%.3g MiB", b / (1024.0 * 1024.0));
	else if (b >= 1024.0)
		snprintf(buf, len, "%.3g KiB", b / 1024.0);
	else
		snprintf(buf, len, "%.0f B", b);
}

void units_time(double s, char *buf, size_t len)
{
	if (s >= 1)
		snprintf(buf, len, "%.4g s", s);
	else if (s >= 1e-3)
		snprintf(buf, len, "%.4g ms", s * 1e3);
	else if (s >= 1e-6)
		snprintf(buf, len, "%.4g us", s * 1e6);
	else
		snprintf(buf, len, "%.4g ns", s * 1e9);
}

int units_parse_size(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	int shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || v > (1ULL << 62) >> shift)
		return -1;
	*out = (int64_t)(v << shift);
	return 0;
}

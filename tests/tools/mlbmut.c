/* mlbmut.c - damages an .mlb file for the reader's tests.
 *
 *   mlbmut IN OUT OP...
 *
 * Operations, applied in order:
 *   trunc:N          keep the first N bytes
 *   u8:AT:V, u16:AT:V, u32:AT:V, u64:AT:V
 *                    store V (little-endian) at AT
 *   xor:AT:V         xor the byte at AT with V
 *   crc              recompute the trailing CRC-32 (so that the damage
 *                    reaches the parser instead of the checksum)
 * AT is a byte offset, or TAG+N: N bytes into the payload of the section
 * with that tag (META, TRGT, TENS, GRPS, DESC, UOPS, CODE).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa/mlb.h"

static uint8_t buf[1 << 24];
static size_t len;

static long at_of(const char *s)
{
	const char *plus = strchr(s, '+');
	if (!plus)
		return strtol(s, NULL, 0);
	size_t pos = 16;
	while (pos + 8 <= len) {
		uint32_t n = (uint32_t)buf[pos + 4] | (uint32_t)buf[pos + 5] << 8 |
			     (uint32_t)buf[pos + 6] << 16 | (uint32_t)buf[pos + 7] << 24;
		if ((size_t)(plus - s) == 4 && memcmp(buf + pos, s, 4) == 0)
			return (long)(pos + 8) + strtol(plus + 1, NULL, 0);
		pos += 8 + n;
	}
	fprintf(stderr, "mlbmut: no section %.*s\n", (int)(plus - s), s);
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: mlbmut IN OUT OP...\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f)
		return 2;
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	for (int i = 3; i < argc; i++) {
		char op[16], a[64];
		uint64_t v = 0;
		if (strcmp(argv[i], "crc") == 0) {
			if (len >= 4) {
				uint32_t c = mlb_crc32(buf, len - 4);
				for (int k = 0; k < 4; k++)
					buf[len - 4 + (size_t)k] = (uint8_t)(c >> (8 * k));
			}
			continue;
		}
		if (sscanf(argv[i], "%15[^:]:%63[^:]:%" SCNi64, op, a, (int64_t *)&v) < 2) {
			fprintf(stderr, "mlbmut: bad operation %s\n", argv[i]);
			return 2;
		}
		if (strcmp(op, "trunc") == 0) {
			long n = strtol(a, NULL, 0);
			if (n >= 0 && (size_t)n < len)
				len = (size_t)n;
			continue;
		}
		long at = at_of(a);
		int w = strcmp(op, "u8") == 0 || strcmp(op, "xor") == 0 ? 1
			: strcmp(op, "u16") == 0				 ? 2
			: strcmp(op, "u32") == 0				 ? 4
			: strcmp(op, "u64") == 0				 ? 8
										 : 0;
		if (!w || at < 0 || (size_t)at + (size_t)w > len) {
			fprintf(stderr, "mlbmut: bad operation %s\n", argv[i]);
			return 2;
		}
		for (int k = 0; k < w; k++) {
			uint8_t b = (uint8_t)(v >> (8 * k));
			if (strcmp(op, "xor") == 0)
				buf[at] ^= b;
			else
				buf[at + k] = b;
		}
	}
	f = fopen(argv[2], "wb");
	if (!f || fwrite(buf, 1, len, f) != len)
		return 2;
	return fclose(f) ? 2 : 0;
}

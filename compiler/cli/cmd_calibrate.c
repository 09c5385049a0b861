/* cmd_calibrate.c - `mambalaya calibrate`: this machine as a CPU target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsio.h"
#include "cli.h"
#include "mapping/calibrate.h"

static void usage(void)
{
	char path[1024];
	if (calibrate_cache_path(path, sizeof(path)) < 0)
		snprintf(path, sizeof(path), "(none: HOME is not set)");
	printf("Usage: mambalaya calibrate [-o FILE] [--seconds S]\n"
	       "\n"
	       "Measures this machine and writes it as a CPU target (docs/target.md):\n"
	       "threads and cache sizes (sysfs, else CPUID), and, from a probe built and run as\n"
	       "generated kernels are (the same compiler, flags, OpenMP and BLAS), the\n"
	       "BLAS's rate by product shape, DRAM bandwidth and the rate of every\n"
	       "elementwise operation.  What cannot be measured falls back to\n"
	       "documented defaults, and a note says so.\n"
	       "\n"
	       "Without -o, the result goes where --arch host reads it:\n"
	       "  %s\n"
	       "($MAMBALAYA_HOST_TARGET, else $XDG_CACHE_HOME/mambalaya/host.json, else\n"
	       "~/.cache/mambalaya/host.json).  --arch host calibrates by itself when\n"
	       "that file is missing or was measured with another version of the\n"
	       "kernels' runtime (its \"runtime\" field); run this command to measure\n"
	       "again.\n"
	       "\n"
	       "Options:\n"
	       "  -o FILE           write the target to FILE (- for standard output)\n"
	       "  --seconds S       time spent probing, roughly (default 3)\n"
	       "  -h, --help        show this help\n",
	       path);
}

int cmd_calibrate(int argc, char **argv)
{
	const char *out = NULL, *secs = NULL;
	for (int i = 1; i < argc;) {
		int r = cli_take_value("calibrate", "-o", argc, argv, &i, &out);
		if (!r)
			r = cli_take_value("calibrate", "--seconds", argc, argv, &i, &secs);
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (r)
			continue;
		const char *extra = NULL;
		r = cli_take_rest("calibrate", usage, argv, &i, &extra);
		if (r != CLI_ARG_NEXT)
			return cli_rest_status(r);
		cli_usage_error("calibrate", "unexpected argument '%s'", extra);
		return CLI_EXIT_USAGE;
	}
	double seconds = 3;
	if (secs) {
		char *end;
		seconds = strtod(secs, &end);
		if (end == secs || *end || !(seconds > 0 && seconds <= 600)) {
			cli_usage_error("calibrate", "--seconds: expected a number of seconds in "
						     "(0, 600], found '%s'", secs);
			return CLI_EXIT_USAGE;
		}
	}
	char path[4096], err[1024], note[2048];
	if (!out) {
		if (calibrate_cache_path(path, sizeof(path)) < 0) {
			fprintf(stderr, "mambalaya calibrate: error: no place for the calibration "
					"(set HOME, XDG_CACHE_HOME or MAMBALAYA_HOST_TARGET, or give -o)\n");
			return CLI_EXIT_USER;
		}
		out = path;
	}
	cJSON *j = calibrate_measure(seconds, note, sizeof(note), err, sizeof(err));
	if (!j) {
		fprintf(stderr, "mambalaya calibrate: error: %s\n", err);
		return CLI_EXIT_USER;
	}
	for (char *line = note, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		fprintf(stderr, "mambalaya calibrate: note: %.*s\n", (int)(nl - line), line);
	}
	char *text = cJSON_Print(j);
	cJSON_Delete(j);
	if (!text) {
		fprintf(stderr, "mambalaya: internal error: out of memory\n");
		return CLI_EXIT_INTERNAL;
	}
	int status = CLI_EXIT_OK;
	if (strcmp(out, "-") == 0) {
		if (printf("%s\n", text) < 0 || fflush(stdout) != 0) {
			fprintf(stderr, "mambalaya calibrate: error: cannot write standard output\n");
			status = CLI_EXIT_USER;
		}
	} else {
		/* The directory of the cache may not exist yet; a failed write
		 * leaves no half file (fs_write_file). */
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s", out);
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir)
			*slash = '\0';
		size_t len = strlen(text);
		text[len++] = '\n'; /* cJSON_Print leaves room: the NUL */
		if ((slash && slash != dir && fs_mkdirs(dir, err, sizeof(err)) < 0) ||
		    fs_write_file(out, text, len, err, sizeof(err)) < 0) {
			fprintf(stderr, "mambalaya calibrate: error: %s\n", err);
			status = CLI_EXIT_USER;
		} else {
			fprintf(stderr, "mambalaya calibrate: wrote %s\n", out);
		}
	}
	free(text);
	return status;
}

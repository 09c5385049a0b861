/* outset.h - the files one command writes into a directory, replaced as a
 * set.
 *
 * A command adds the files it makes (outset_add) and names the ones it
 * will make later (outset_claim: an executable, a directory of inputs);
 * outset_commit then, under a lock on the directory (.mambalaya-lock,
 * flock), refuses to replace a file the tool did not write, writes every
 * file to a private temporary, renames them all into place only when all
 * are written, and records them in the directory's manifest
 * (.mambalaya-manifest).  A failure before the renames leaves the old set
 * untouched; two commands writing one directory take turns.  What a kill
 * between two renames would leave mixed, the files themselves catch (the
 * generated C checks its parts' common stamp, codegen/c/cgc.h).
 *
 * Ownership: an outset copies what it is given; free it with outset_free.
 */
#ifndef MAMBALAYA_OUTSET_H
#define MAMBALAYA_OUTSET_H

#include <stddef.h>

typedef struct outset outset;

#define OUTSET_MANIFEST ".mambalaya-manifest"
#define OUTSET_LOCK ".mambalaya-lock"

/* An empty set for directory dir (created by outset_commit if missing).
 * NULL when out of memory. */
outset *outset_new(const char *dir);
void outset_free(outset *s);

/* Adds file dir/name with the given bytes (copied); replaces an earlier
 * addition of the same name.  Returns 0 or -1 (out of memory). */
int outset_add(outset *s, const char *name, const void *data, size_t len);
/* Records that the command owns dir/name without writing it now. */
int outset_claim(outset *s, const char *name);

/* Is a file of the set one of the command's inputs (the same file, by
 * device and inode)?  Returns 0, or -2 with a message naming both. */
int outset_check_inputs(const outset *s, const char *const *inputs, int n, char *err,
			size_t errlen);

/* Writes the set (see above).  force: replace files the tool did not
 * write.  Returns 0; -2 with a message in err for what the user can
 * change (a file the tool did not write, a read-only or full disk: the
 * path and strerror); -1 when out of memory. */
int outset_commit(outset *s, int force, char *err, size_t errlen);

#endif

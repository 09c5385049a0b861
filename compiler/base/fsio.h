/* fsio.h - files as the tool reads and writes them: inputs must be regular
 * files (a FIFO or a device would block or never end), and every output is
 * written to a private temporary in its directory and renamed into place,
 * so that a failure, a kill or a concurrent run never leaves a partial
 * file under the final name.  No shell is involved anywhere: processes are
 * started with argument vectors (fs_spawn) and directories removed with
 * unlinkat (fs_remove_tree).
 *
 * The module keeps no state of its own; what a command must remove when a
 * signal ends it is the command line's business (cli/cleanup.h).
 *
 * Errors: functions return -1 and write "PATH: reason" (strerror) to err.
 * Ownership: fs_read_file gives a buffer the caller frees; an fs_out owns
 * its temporary until fs_out_commit or fs_out_abort.
 */
#ifndef MAMBALAYA_FSIO_H
#define MAMBALAYA_FSIO_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Opens path for reading; it must be a regular file (not a FIFO, a
 * device or a directory, which are refused without blocking).  Returns a
 * descriptor or -1. */
int fs_open_regular(const char *path, char *err, size_t errlen);

/* Reads a whole regular file of at most max bytes into *buf (NUL
 * terminated, *len bytes without the NUL).  Returns 0, -2 when the file is
 * larger, or -1. */
int fs_read_file(const char *path, size_t max, char **buf, size_t *len, char *err,
		 size_t errlen);

/* The reason of a message "PATH: reason" these functions wrote, for
 * callers that print the path their own way. */
const char *fs_reason(const char *err, const char *path);

/* Do a and b name the same existing file (device and inode)? */
int fs_same_file(const char *a, const char *b);

/* An output file being written. */
typedef struct fs_out {
	char *path; /* the final name */
	char *tmp;  /* the temporary beside it (NULL: writing a device) */
	FILE *f;
} fs_out;

/* Creates a private temporary beside path (a fresh name, O_EXCL, mode
 * 0666 less the umask: npy_create_unique) and opens it for writing.  An
 * existing device or FIFO at path (/dev/null) is opened as it is instead;
 * any other existing non-regular file is an error.  Returns 0 or -1. */
int fs_out_open(fs_out *o, const char *path, char *err, size_t errlen);
/* Closes the temporary and renames it to the final name.  Returns 0, or
 * -1 (a write error such as a full disk, reported with strerror) after
 * removing the temporary. */
int fs_out_commit(fs_out *o, char *err, size_t errlen);
/* Closes and removes the temporary (nothing happens to path). */
void fs_out_abort(fs_out *o);
/* Only closes the temporary, checking for write errors: for several files
 * renamed together (fs_out_rename) once all are written.  Returns 0 or -1
 * after removing the temporary. */
int fs_out_close(fs_out *o, char *err, size_t errlen);
int fs_out_rename(fs_out *o, char *err, size_t errlen);

/* fs_out_open, one fwrite, fs_out_commit. */
int fs_write_file(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* Creates a directory and its parents if missing (mkdir -p).  Returns 0
 * or -1. */
int fs_mkdirs(const char *path, char *err, size_t errlen);

/* Removes a directory tree without following symbolic links (unlinkat on
 * the entries, rmdir on the directories).  Returns 0 or -1. */
int fs_remove_tree(const char *path, char *err, size_t errlen);

/* Splits s into words the way a POSIX shell reads them, without
 * expanding anything: blanks (spaces, tabs) separate words; within
 * '...' every character is literal; within "..." every character but \"
 * and \\ (a quote, a backslash) is literal; outside quotes a backslash
 * makes the next character literal.  Control characters are refused.
 * Returns the number of words with *words a NULL-terminated array (free
 * it with fs_words_free), or -1 with a message in err. */
int fs_split_words(const char *s, char ***words, char *err, size_t errlen);
void fs_words_free(char **words);

/* Runs argv[0] (searched in PATH when it has no '/') with argv, without a
 * shell; standard output and error go to the log (at most 64 KiB kept,
 * NUL terminated; log may be NULL to leave them as they are).  The child
 * is ended (SIGTERM) if this process dies first.  Returns its
 * exit status (0-255), 128 + the signal that ended it, or -1 with a message
 * in err when it could not be started (errno says why: ENOENT for a
 * missing program). */
int fs_spawn(char *const argv[], char *log, size_t loglen, char *err, size_t errlen);

#endif

/* cleanup.h - what a command removes when SIGINT, SIGTERM or SIGHUP ends
 * it: its temporary build directory, the temporaries of files it is
 * writing.  The handlers use async-signal-safe calls only (getdents64,
 * unlinkat, rmdir), then raise the signal again with its default action,
 * so the exit status still says which signal it was.
 *
 * Process-wide state, so it belongs to the command line, not the library.
 * Ownership: paths are copied; a slot is released with cli_cleanup_forget.
 */
#ifndef MAMBALAYA_CLEANUP_H
#define MAMBALAYA_CLEANUP_H

/* Installs the handlers (once; later calls do nothing). */
void cli_cleanup_install(void);
/* Registers a directory tree (dir = 1) or a file to remove.  Returns a
 * slot, or -1 when path is NULL, the table full or the path too long
 * (then nothing will be removed for it). */
int cli_cleanup_add(const char *path, int dir);
void cli_cleanup_forget(int slot);

#endif

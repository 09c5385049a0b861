/* cleanup.c - removing a command's temporaries when a signal ends it (see
 * cleanup.h). */
#define _GNU_SOURCE /* O_DIRECTORY, O_NOFOLLOW, SYS_getdents64 */
#include "cleanup.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NSLOTS 16
#define PATHMAX 4096

static struct {
	volatile sig_atomic_t used;
	int dir;
	char path[PATHMAX];
} slots[NSLOTS];

static volatile sig_atomic_t installed;

/* The entries of directory fd, removed with raw system calls (readdir may
 * allocate, which a signal handler must not). */
static void remove_entries(int fd, int depth)
{
	char buf[4096] __attribute__((aligned(8)));
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (n <= 0)
			return;
		for (long off = 0; off < n;) {
			/* struct linux_dirent64: ino, off, reclen, type, name. */
			unsigned short reclen;
			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			unsigned char type = (unsigned char)buf[off + 18];
			const char *name = buf + off + 19;
			off += reclen;
			if (!strcmp(name, ".") || !strcmp(name, ".."))
				continue;
			if (type == 4 /* DT_DIR */ && depth < 8) {
				int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (sub >= 0) {
					remove_entries(sub, depth + 1);
					close(sub);
				}
				unlinkat(fd, name, AT_REMOVEDIR);
			} else {
				unlinkat(fd, name, 0);
			}
		}
	}
}

static void on_signal(int sig)
{
	for (int i = 0; i < NSLOTS; i++) {
		if (!slots[i].used)
			continue;
		if (!slots[i].dir) {
			unlink(slots[i].path);
			continue;
		}
		int fd = open(slots[i].path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			/* Twice: entries that getdents64 had not listed yet
			 * when others were removed. */
			remove_entries(fd, 0);
			lseek(fd, 0, SEEK_SET);
			remove_entries(fd, 0);
			close(fd);
		}
		rmdir(slots[i].path);
	}
	/* SA_RESETHAND restored the default action. */
	raise(sig);
}

void cli_cleanup_install(void)
{
	if (installed)
		return;
	installed = 1;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND;
	sigfillset(&sa.sa_mask);
	const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	for (int k = 0; k < 3; k++) {
		struct sigaction old;
		/* A signal the caller ignores (nohup) stays ignored. */
		if (sigaction(sigs[k], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[k], &sa, NULL);
	}
}

int cli_cleanup_add(const char *path, int dir)
{
	if (!path)
		return -1;
	size_t n = strlen(path);
	if (n >= PATHMAX)
		return -1;
	for (int i = 0; i < NSLOTS; i++)
		if (!slots[i].used) {
			memcpy(slots[i].path, path, n + 1);
			slots[i].dir = dir;
			slots[i].used = 1;
			return i;
		}
	return -1;
}

void cli_cleanup_forget(int slot)
{
	if (slot >= 0 && slot < NSLOTS)
		slots[slot].used = 0;
}

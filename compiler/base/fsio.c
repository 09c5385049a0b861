/* fsio.c - files as the tool reads and writes them (see fsio.h). */
#define _GNU_SOURCE /* O_DIRECTORY, O_NOFOLLOW, pipe2 */
#include "fsio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ml_npy.h" /* npy_create_unique */

static int fail(char *err, size_t errlen, const char *path, const char *what, int e)
{
	if (errlen)
		snprintf(err, errlen, "%s: %s%s%s", path, what ? what : "", what ? ": " : "",
			 strerror(e));
	return -1;
}

static const char *kind_of(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

int fs_open_regular(const char *path, char *err, size_t errlen)
{
	/* O_NONBLOCK: opening a FIFO without a writer would wait forever. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail(err, errlen, path, "cannot open", errno);
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return fail(err, errlen, path, "cannot read", e);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		if (errlen)
			snprintf(err, errlen, "%s: is %s, not a regular file", path,
				 kind_of(st.st_mode));
		return -1;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

int fs_read_file(const char *path, size_t max, char **buf, size_t *len, char *err,
		 size_t errlen)
{
	*buf = NULL;
	*len = 0;
	int fd = fs_open_regular(path, err, errlen);
	if (fd < 0)
		return -1;
	size_t cap = 4096, n = 0;
	char *b = malloc(cap + 1);
	int rc = -1;
	if (!b) {
		fail(err, errlen, path, "cannot read", ENOMEM);
		goto done;
	}
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				if (errlen)
					snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
				rc = -2;
				goto done;
			}
			char *nb = realloc(b, 2 * cap + 1);
			if (!nb) {
				fail(err, errlen, path, "cannot read", ENOMEM);
				goto done;
			}
			b = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fail(err, errlen, path, "cannot read", errno);
			goto done;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		if (errlen)
			snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
		rc = -2;
		goto done;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	rc = 0;
done:
	free(b);
	close(fd);
	return rc;
}

const char *fs_reason(const char *err, const char *path)
{
	size_t n = strlen(path);
	if (!strncmp(err, path, n) && err[n] == ':' && err[n + 1] == ' ')
		return err + n + 2;
	return err;
}

int fs_same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (!a || !b || stat(a, &sa) != 0 || stat(b, &sb) != 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}


int fs_out_open(fs_out *o, const char *path, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* A device or a FIFO (/dev/null, /dev/stdout) is written
		 * as it is: a rename would replace it with a file. */
		if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
			if (errlen)
				snprintf(err, errlen, "%s: is %s, not a regular file", path,
					 kind_of(st.st_mode));
			return -1;
		}
		o->f = fopen(path, "wb");
		if (!o->f)
			return fail(err, errlen, path, "cannot write", errno);
		if (!(o->path = strdup(path))) {
			fclose(o->f);
			o->f = NULL;
			return fail(err, errlen, path, "cannot write", ENOMEM);
		}
		return 0;
	}
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
	size_t n = strlen(path) + 16;
	o->path = strdup(path);
	o->tmp = malloc(n);
	if (!o->path || !o->tmp) {
		fs_out_abort(o);
		return fail(err, errlen, path, "cannot write", ENOMEM);
	}
	/* A hidden name beside the target: the same file system, so that the
	 * rename is atomic. */
	snprintf(o->tmp, n, "%.*s.%s.XXXXXX", (int)dlen, path, path + dlen);
	int fd = npy_create_unique(o->tmp);
	if (fd < 0) {
		int e = errno;
		free(o->tmp);
		o->tmp = NULL;
		fs_out_abort(o);
		return fail(err, errlen, path, "cannot write", e);
	}
	o->f = fdopen(fd, "wb");
	if (!o->f) {
		int e = errno;
		close(fd);
		fs_out_abort(o);
		return fail(err, errlen, path, "cannot write", e);
	}
	return 0;
}

int fs_out_close(fs_out *o, char *err, size_t errlen)
{
	int bad = ferror(o->f);
	int e = bad ? errno : 0;
	if (fflush(o->f) != 0 && !bad) {
		bad = 1;
		e = errno;
	}
	if (fclose(o->f) != 0 && !bad) {
		bad = 1;
		e = errno;
	}
	o->f = NULL;
	if (bad) {
		fail(err, errlen, o->path, "cannot write", e ? e : EIO);
		fs_out_abort(o);
		return -1;
	}
	return 0;
}

int fs_out_rename(fs_out *o, char *err, size_t errlen)
{
	if (!o->tmp) { /* written in place (a device) */
		fs_out_abort(o);
		return 0;
	}
	if (rename(o->tmp, o->path) != 0) {
		int e = errno;
		fail(err, errlen, o->path, "cannot write", e);
		fs_out_abort(o);
		return -1;
	}
	free(o->tmp);
	o->tmp = NULL;
	fs_out_abort(o);
	return 0;
}

int fs_out_commit(fs_out *o, char *err, size_t errlen)
{
	if (fs_out_close(o, err, errlen) < 0)
		return -1;
	return fs_out_rename(o, err, errlen);
}

void fs_out_abort(fs_out *o)
{
	if (o->f)
		fclose(o->f);
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
}

int fs_write_file(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	fs_out o;
	if (fs_out_open(&o, path, err, errlen) < 0)
		return -1;
	if (len && fwrite(data, 1, len, o.f) != len) {
		fail(err, errlen, path, "cannot write", errno ? errno : EIO);
		fs_out_abort(&o);
		return -1;
	}
	return fs_out_commit(&o, err, errlen);
}

int fs_mkdirs(const char *path, char *err, size_t errlen)
{
	size_t n = strlen(path);
	char *p = malloc(n + 1);
	if (!p)
		return fail(err, errlen, path, "cannot create", ENOMEM);
	memcpy(p, path, n + 1);
	int rc = 0;
	for (size_t i = 1; i <= n && rc == 0; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char c = p[i];
		p[i] = '\0';
		struct stat st;
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			rc = fail(err, errlen, p, "cannot create the directory", errno);
		} else if (stat(p, &st) != 0) {
			rc = fail(err, errlen, p, "cannot create the directory", errno);
		} else if (!S_ISDIR(st.st_mode)) {
			if (errlen)
				snprintf(err, errlen, "%s: exists and is not a directory", p);
			rc = -1;
		}
		p[i] = c;
	}
	free(p);
	return rc;
}

/* Removes the entries of directory fd (which it closes), then nothing
 * else: the caller removes the directory itself. */
static int remove_entries(int fd, const char *path, int depth, char *err, size_t errlen)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return fail(err, errlen, path, "cannot remove", e);
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			continue;
		if (errno != EISDIR && errno != EPERM) {
			rc = fail(err, errlen, path, "cannot remove an entry", errno);
			continue;
		}
		/* A directory: its entries, then itself; never through a
		 * symbolic link (O_NOFOLLOW). */
		int sub = openat(dirfd(d), de->d_name,
				 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0 || depth > 64) {
			if (sub >= 0)
				close(sub);
			rc = fail(err, errlen, path, "cannot remove an entry", errno ? errno : ELOOP);
			continue;
		}
		if (remove_entries(sub, path, depth + 1, err, errlen) < 0)
			rc = -1;
		else if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) != 0)
			rc = fail(err, errlen, path, "cannot remove an entry", errno);
	}
	closedir(d);
	return rc;
}

int fs_remove_tree(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return fail(err, errlen, path, "cannot remove", errno);
	}
	if (remove_entries(fd, path, 0, err, errlen) < 0)
		return -1;
	if (rmdir(path) != 0)
		return fail(err, errlen, path, "cannot remove", errno);
	return 0;
}

/* Appends what the child writes to the log (keeping the first loglen - 1
 * bytes) until it closes the pipe. */
static void drain(int fd, char *log, size_t loglen)
{
	size_t n = 0;
	char tmp[4096];
	for (;;) {
		ssize_t r = read(fd, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		size_t k = (size_t)r;
		if (n + k > loglen - 1)
			k = loglen - 1 - n;
		memcpy(log + n, tmp, k);
		n += k;
	}
	log[n] = '\0';
}

int fs_spawn(char *const argv[], char *log, size_t loglen, char *err, size_t errlen)
{
	int pfd[2] = {-1, -1}, efd[2] = {-1, -1};
	if (log && loglen && pipe2(pfd, O_CLOEXEC) != 0)
		return fail(err, errlen, argv[0], "cannot start", errno);
	/* The child reports a failed exec through this pipe (closed on a
	 * successful exec). */
	if (pipe2(efd, O_CLOEXEC) != 0) {
		int e = errno;
		if (pfd[0] >= 0) {
			close(pfd[0]);
			close(pfd[1]);
		}
		return fail(err, errlen, argv[0], "cannot start", e);
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(efd[0]);
		close(efd[1]);
		if (pfd[0] >= 0) {
			close(pfd[0]);
			close(pfd[1]);
		}
		return fail(err, errlen, argv[0], "cannot start", e);
	}
	if (pid == 0) {
		/* Ended with us: a killed `run` does not leave its compiler or
		 * program running. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		if (pfd[1] >= 0) {
			dup2(pfd[1], 1);
			dup2(pfd[1], 2);
		}
		execvp(argv[0], argv);
		int e = errno;
		ssize_t w = write(efd[1], &e, sizeof(e));
		(void)w;
		_exit(127);
	}
	close(efd[1]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (pfd[0] >= 0) {
		drain(pfd[0], log, loglen);
		close(pfd[0]);
	} else if (log && loglen) {
		log[0] = '\0';
	}
	int e = 0;
	ssize_t r;
	do
		r = read(efd[0], &e, sizeof(e));
	while (r < 0 && errno == EINTR);
	close(efd[0]);
	int st;
	pid_t w;
	do
		w = waitpid(pid, &st, 0);
	while (w < 0 && errno == EINTR);
	if (r == (ssize_t)sizeof(e)) {
		errno = e;
		return fail(err, errlen, argv[0], "cannot run", e);
	}
	if (w < 0)
		return fail(err, errlen, argv[0], "cannot wait for", errno);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

void fs_words_free(char **words)
{
	for (int i = 0; words && words[i]; i++)
		free(words[i]);
	free(words);
}

int fs_split_words(const char *s, char ***words, char *err, size_t errlen)
{
	size_t n = strlen(s);
	/* At most one word per two characters, plus the NULL. */
	char **w = calloc(n / 2 + 2, sizeof(*w));
	char *cur = malloc(n + 1);
	int nw = 0, rc = -1;
	*words = NULL;
	if (!w || !cur) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	size_t len = 0;
	int in_word = 0;
	char quote = 0;
	size_t qpos = 0;
	for (size_t i = 0; i <= n; i++) {
		char ch = s[i];
		if (ch && (unsigned char)ch < 0x20 && ch != '\t') {
			snprintf(err, errlen, "a control character (byte %zu) is not allowed", i + 1);
			goto done;
		}
		if (!quote && (ch == ' ' || ch == '\t' || ch == '\0')) {
			if (in_word) {
				cur[len] = '\0';
				if (!(w[nw++] = strdup(cur))) {
					snprintf(err, errlen, "out of memory");
					goto done;
				}
				len = 0;
				in_word = 0;
			}
			continue;
		}
		in_word = 1;
		if (quote == '\'') {
			if (ch == '\'')
				quote = 0;
			else if (ch)
				cur[len++] = ch;
		} else if (quote == '"') {
			if (ch == '"')
				quote = 0;
			else if (ch == '\\' && (s[i + 1] == '"' || s[i + 1] == '\\'))
				cur[len++] = s[++i];
			else if (ch)
				cur[len++] = ch;
		} else if (ch == '\'' || ch == '"') {
			quote = ch;
			qpos = i + 1;
		} else if (ch == '\\') {
			if (!s[i + 1]) {
				snprintf(err, errlen, "a backslash at the end");
				goto done;
			}
			cur[len++] = s[++i];
		} else {
			cur[len++] = ch;
		}
		if (!ch && quote) {
			snprintf(err, errlen, "the %s quote at character %zu is not closed",
				 quote == '\'' ? "single" : "double", qpos);
			goto done;
		}
	}
	*words = w;
	w = NULL;
	rc = nw;
done:
	fs_words_free(w);
	free(cur);
	return rc;
}

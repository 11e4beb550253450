/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz.h - what the fuzz harnesses of tests/fuzz/ share: the libFuzzer entry
 * point's prototype, an invariant check that aborts (so libFuzzer and the
 * replay runner both see a failure), and scratch files for readers that
 * only take a path.
 *
 * Every harness is one LLVMFuzzerTestOneInput. clang builds it with
 * -fsanitize=fuzzer (mk/fuzz.mk, `make fuzz`); any C compiler builds it
 * with replay.c, which runs it over the committed corpus (`make
 * fuzz-replay`, part of `make test`). The harnesses keep no state between
 * inputs except a scratch directory created on first use and removed at
 * exit.
 */
#ifndef QA_FUZZ_H
#define QA_FUZZ_H

#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test: on failure print where and abort. */
#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, \
				__LINE__, #cond);                              \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			abort();                                               \
		}                                                              \
	} while (0)

/* the scratch directory of this process, "" until fuzz_tmpdir() made it */
static char fuzz_dir_path[256];

/* Remove path and, if it is a directory, everything in it. */
static inline void fuzz_rm_tree(const char *path)
{
	struct stat sb;
	DIR *d;
	struct dirent *e;

	if (lstat(path, &sb) != 0)
		return;
	if (!S_ISDIR(sb.st_mode)) {
		unlink(path);
		return;
	}
	d = opendir(path);
	if (d) {
		while ((e = readdir(d)) != NULL) {
			char p[1024];

			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			if (snprintf(p, sizeof p, "%s/%s", path,
				     e->d_name) < (int)sizeof p)
				fuzz_rm_tree(p);
		}
		closedir(d);
	}
	rmdir(path);
}

static inline void fuzz_tmpdir_cleanup(void)
{
	if (fuzz_dir_path[0])
		fuzz_rm_tree(fuzz_dir_path);
}

/* Where scratch directories go: $FUZZ_TMPDIR, else /dev/shm (memory,
 * fast), else $TMPDIR, else /tmp. */
static inline const char *fuzz_tmp_base(void)
{
	const char *base = getenv("FUZZ_TMPDIR");
	struct stat sb;

	if (base && *base)
		return base;
	if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    access("/dev/shm", W_OK) == 0)
		return "/dev/shm";
	base = getenv("TMPDIR");
	return base && *base ? base : "/tmp";
}

/*
 * A private directory for scratch files, made once per process under
 * fuzz_tmp_base() and removed with everything in it at exit. (A process
 * that crashes leaves it behind; the replay runner gives its children a
 * base directory of their own and removes that.)
 */
static inline const char *fuzz_tmpdir(void)
{
	if (fuzz_dir_path[0])
		return fuzz_dir_path;
	snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/qa-fuzz.XXXXXX",
		 fuzz_tmp_base());
	FUZZ_CHECK(mkdtemp(fuzz_dir_path) != NULL, "cannot create %s",
		   fuzz_dir_path);
	atexit(fuzz_tmpdir_cleanup);
	return fuzz_dir_path;
}

/* Replace the file at path with exactly n bytes of data. */
static inline void fuzz_write_file(const char *path, const void *data, size_t n)
{
	const uint8_t *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	FUZZ_CHECK(fd >= 0, "cannot create %s", path);
	while (n) {
		ssize_t w = write(fd, p, n);

		FUZZ_CHECK(w > 0, "cannot write %s", path);
		p += w;
		n -= (size_t)w;
	}
	FUZZ_CHECK(close(fd) == 0, "cannot close %s", path);
}

#endif

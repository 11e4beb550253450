/* SPDX-License-Identifier: Apache-2.0 */
/*
 * replay.c - run a fuzz harness's LLVMFuzzerTestOneInput over saved inputs,
 * without libFuzzer (any C compiler; `make fuzz-replay` builds one runner
 * per harness with gcc, so `make test` replays the corpus without clang).
 *
 *   replay_HARNESS [-v] PATH...
 *
 * A PATH is an input file or a directory whose files (not
 * subdirectories) are all inputs, taken in name order. Each input runs in
 * a child process with a 20-second alarm, so a crash, an abort from a
 * failed invariant or a hang fails that input only and the others still
 * run; their scratch files go in a directory of the runner's own
 * (FUZZ_TMPDIR), removed at the end. Prints "PASS name" / "FAIL name
 * (why)" per input (-v: PASS lines
 * too) and "N passed, N failed" last; exits 1 if any input failed or no
 * input was found, 2 on bad usage.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

#define REPLAY_TIMEOUT_S 20

static int verbose;
static unsigned passed, failed;

/* Read a whole file; NULL (and a message) on error. */
static uint8_t *read_input(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 4096;
			uint8_t *q = realloc(buf, nc);

			if (!q) {
				fprintf(stderr, "replay: %s: out of memory\n",
					path);
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = q;
			cap = nc;
		}
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* Run one input in a child process and count the outcome. */
static void run_one(const char *path)
{
	size_t len = 0;
	uint8_t *data = read_input(path, &len);
	pid_t pid;
	int status = 0;

	if (!data) {
		printf("FAIL %s (cannot read it)\n", path);
		failed++;
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		printf("FAIL %s (fork: %s)\n", path, strerror(errno));
		failed++;
		free(data);
		return;
	}
	if (pid == 0) {
		alarm(REPLAY_TIMEOUT_S);
		LLVMFuzzerTestOneInput(data, len);
		free(data);
		exit(0); /* runs the harness's atexit cleanup */
	}
	free(data);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			printf("FAIL %s (waitpid: %s)\n", path, strerror(errno));
			failed++;
			return;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (verbose)
			printf("PASS %s\n", path);
		passed++;
	} else if (WIFSIGNALED(status)) {
		printf("FAIL %s (%s)\n", path,
		       WTERMSIG(status) == SIGALRM ? "timeout" :
		       WTERMSIG(status) == SIGABRT ? "abort: a check failed" :
						     "killed by a signal");
		failed++;
	} else {
		printf("FAIL %s (exit status %d)\n", path,
		       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		failed++;
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of a directory, in name order. */
static int run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char *p;
		struct stat sb;

		if (e->d_name[0] == '.')
			continue;
		p = malloc(strlen(dir) + strlen(e->d_name) + 2);
		if (!p)
			break;
		sprintf(p, "%s/%s", dir, e->d_name);
		if (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			free(p);
			continue;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **q = realloc(names, nc * sizeof(*q));

			if (!q) {
				free(p);
				break;
			}
			names = q;
			cap = nc;
		}
		names[n++] = p;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		run_one(names[i]);
		free(names[i]);
	}
	free(names);
	return (int)n;
}

int main(int argc, char **argv)
{
	char scratch[512];
	int inputs = 0;

	/* the children's scratch directories go in one of our own, removed
	 * at the end even when a child crashed and left its own behind */
	snprintf(scratch, sizeof scratch, "%s/qa-replay.XXXXXX",
		 fuzz_tmp_base());
	if (!mkdtemp(scratch) || setenv("FUZZ_TMPDIR", scratch, 1) != 0) {
		fprintf(stderr, "replay: cannot create %s: %s\n", scratch,
			strerror(errno));
		return 2;
	}

	for (int i = 1; i < argc; i++) {
		struct stat sb;

		if (strcmp(argv[i], "-v") == 0) {
			verbose = 1;
			continue;
		}
		if (argv[i][0] == '-') {
			fprintf(stderr, "usage: %s [-v] FILE_OR_DIR...\n",
				argv[0]);
			fuzz_rm_tree(scratch);
			return 2;
		}
		if (stat(argv[i], &sb) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
				strerror(errno));
			failed++;
		} else if (S_ISDIR(sb.st_mode)) {
			int n = run_dir(argv[i]);

			if (n < 0)
				failed++;
			else
				inputs += n;
		} else {
			run_one(argv[i]);
			inputs++;
		}
	}
	if (inputs == 0) {
		fprintf(stderr, "replay: no input found\n");
		failed++;
	}
	fuzz_rm_tree(scratch);
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}

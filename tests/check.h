/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check.h - the minimal test reporter shared by qarray's C test programs.
 *
 * Each check prints "PASS name" or "FAIL name: detail"; check_summary()
 * prints "N passed, N failed" and returns the exit status (0 only if none
 * failed). tests/run.sh adds the summaries of all programs together.
 */
#ifndef QA_TESTS_CHECK_H
#define QA_TESTS_CHECK_H

#include <stdarg.h>
#include <stdio.h>

typedef struct check_ctx {
	unsigned passed, failed;
	int quiet; /* 1: print FAIL lines only */
} check_ctx;

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static inline int check(check_ctx *c, int ok, const char *name,
			const char *fmt, ...)
{
	if (ok) {
		c->passed++;
		if (!c->quiet)
			printf("PASS %s\n", name);
		return 1;
	}
	c->failed++;
	printf("FAIL %s: ", name);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return 0;
}

static inline int check_summary(const check_ctx *c)
{
	printf("%u passed, %u failed\n", c->passed, c->failed);
	return c->failed ? 1 : 0;
}

#endif

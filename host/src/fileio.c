/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fileio.c - atomic file writes (see fileio.h): a temporary file beside the
 * target, written, closed and checked, then renamed over it.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fchmod, lstat */

#include "fileio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qarray.h"

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int say(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int qa_write_atomic(const char *path, int (*emit)(FILE *f, void *ctx),
		    void *ctx, char *err, size_t errlen)
{
	struct stat sb;
	char *tmp = NULL;
	FILE *f = NULL;
	int fd = -1, created = 0, rc;

	if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
		return say(err, errlen, QA_ERR_INVALID,
			   "exists and is not a regular file; refusing to "
			   "replace it");
	tmp = malloc(strlen(path) + sizeof(".tmp.XXXXXX"));
	if (!tmp)
		return say(err, errlen, QA_ERR_NOMEM, "out of memory");
	strcpy(tmp, path);
	strcat(tmp, ".tmp.XXXXXX");
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = say(err, errlen, QA_ERR_IO,
			 "cannot create a temporary file: %s", strerror(errno));
		goto out;
	}
	created = 1;
	/* mkstemp makes the file 0600; give it the usual mode of a data file */
	if (fchmod(fd, 0644) != 0) {
		rc = say(err, errlen, QA_ERR_IO, "cannot set the mode of %s: %s",
			 tmp, strerror(errno));
		goto out;
	}
	f = fdopen(fd, "wb");
	if (!f) {
		rc = say(err, errlen, QA_ERR_IO, "cannot open %s: %s", tmp,
			 strerror(errno));
		goto out;
	}
	fd = -1; /* owned by f now */
	if (emit(f, ctx) != 0 || fflush(f) != 0) {
		rc = say(err, errlen, QA_ERR_IO, "write to %s failed: %s", tmp,
			 strerror(errno));
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		rc = say(err, errlen, QA_ERR_IO, "write to %s failed: %s", tmp,
			 strerror(errno));
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) != 0) {
		rc = say(err, errlen, QA_ERR_IO, "cannot rename %s: %s", tmp,
			 strerror(errno));
		goto out;
	}
	created = 0;
	rc = QA_OK;
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
	free(tmp);
	return rc;
}

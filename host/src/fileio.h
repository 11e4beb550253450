/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fileio.h - writing a file so that a failure never leaves half of it
 * (internal; npy.c and nn_model.c).
 */
#ifndef QA_FILEIO_H
#define QA_FILEIO_H

#include <stddef.h>
#include <stdio.h>

/*
 * Write path atomically: emit(f, ctx) writes the content into a new file
 * path.tmp.XXXXXX (mode 0644), which then replaces path by rename(). path
 * must not name anything but a regular file (rename() would replace a
 * device, a FIFO, a directory or a symbolic link). emit returns 0, or -1
 * with errno set. Returns QA_OK, or QA_ERR_INVALID / QA_ERR_NOMEM /
 * QA_ERR_IO with a message in err (errlen bytes, may be NULL) that does
 * not repeat path; on failure no temporary file is left behind and path is
 * unchanged.
 */
int qa_write_atomic(const char *path, int (*emit)(FILE *f, void *ctx),
		    void *ctx, char *err, size_t errlen);

#endif

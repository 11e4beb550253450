/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_npy.c - libFuzzer harness of the .npy reader (host/src/npy.c).
 *
 * qa_npy_read only takes a path, so the input is written to a scratch file
 * and read from there - and, when it fits a pipe's buffer, read a second
 * time through a pipe: the reader takes another path for files whose size
 * it cannot know in advance, and both must agree.
 *
 * Invariants checked on every input:
 * - the result is QA_OK or a file-format error (QA_ERR_FORMAT, or
 *   QA_ERR_NOMEM for what the format allows but memory does not); never
 *   QA_ERR_INVALID or QA_ERR_IO for a readable file; a failure leaves the
 *   array empty and a message in errbuf;
 * - an array that loads has a known dtype, at most QA_NPY_MAX_DIMS
 *   dimensions, count = the product of its shape, and exactly count
 *   elements of data, all of which came from the input (every byte is
 *   touched, so ASan sees a short buffer);
 * - the pipe reading gives the same result as the file reading, errors
 *   included;
 * - writing the array with qa_npy_write and reading it back gives the same
 *   dtype, shape and bytes.
 */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>

#include "qarray.h"

/* the reader's result must describe a consistent array */
static void check_array(const qa_array *a, size_t input_size)
{
	size_t esize = qa_dtype_size(a->dtype), count = 1;
	const unsigned char *p = a->data;
	unsigned sum = 0;

	FUZZ_CHECK(esize == 1 || esize == 4 || esize == 8, "dtype %d",
		   (int)a->dtype);
	FUZZ_CHECK(a->ndim <= QA_NPY_MAX_DIMS, "ndim %u", a->ndim);
	for (unsigned i = 0; i < a->ndim; i++) {
		FUZZ_CHECK(a->shape[i] == 0 || count <= SIZE_MAX / a->shape[i],
			   "shape overflow accepted");
		count *= a->shape[i];
	}
	for (unsigned i = a->ndim; i < QA_NPY_MAX_DIMS; i++)
		FUZZ_CHECK(a->shape[i] == 0, "unused dimension %u is %zu", i,
			   a->shape[i]);
	FUZZ_CHECK(a->count == count, "count %zu, shape gives %zu", a->count,
		   count);
	FUZZ_CHECK(a->data != NULL, "no data buffer");
	/* magic (6) + version (2) + length (2 or 4) + header come first */
	FUZZ_CHECK(count <= input_size / esize &&
			   count * esize + 10 <= input_size,
		   "%zu elements of %zu bytes from a %zu-byte file", count,
		   esize, input_size);
	for (size_t i = 0; i < count * esize; i++)
		sum += p[i];
	(void)sum;
}

static void check_same(const qa_array *a, const qa_array *b, const char *what)
{
	FUZZ_CHECK(a->dtype == b->dtype && a->ndim == b->ndim &&
			   a->count == b->count,
		   "%s: dtype/ndim/count differ", what);
	for (unsigned i = 0; i < a->ndim; i++)
		FUZZ_CHECK(a->shape[i] == b->shape[i], "%s: shape differs",
			   what);
	FUZZ_CHECK(memcmp(a->data, b->data,
			  a->count * qa_dtype_size(a->dtype)) == 0,
		   "%s: data differs", what);
}

static void check_failure(int rc, const qa_array *a, const char *err)
{
	FUZZ_CHECK(rc == QA_ERR_FORMAT || rc == QA_ERR_NOMEM,
		   "rc %d (%s) for a readable file: %s", rc, qa_errname(rc),
		   err);
	FUZZ_CHECK(a->data == NULL && a->count == 0 && a->ndim == 0,
		   "array not left empty on error");
	FUZZ_CHECK(err[0] != '\0', "error %d without a message", rc);
}

/*
 * The input through a pipe: the reader cannot know the size in advance.
 * Returns -1 (and reads nothing) when the input does not fit the pipe's
 * buffer, else the reader's result.
 */
static int read_via_pipe(const uint8_t *data, size_t size, qa_array *a,
			 char *err, size_t errlen)
{
	char path[64];
	int fds[2], rc = -1;
	size_t off = 0;

	FUZZ_CHECK(pipe(fds) == 0, "pipe: %s", strerror(errno));
	FUZZ_CHECK(fcntl(fds[1], F_SETFL, O_NONBLOCK) == 0, "fcntl");
	while (off < size) {
		ssize_t w = write(fds[1], data + off, size - off);

		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fds[1]);
	if (off == size) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", fds[0]);
		rc = qa_npy_read(path, a, err, errlen);
	}
	close(fds[0]);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_tmpdir();
	char in[512], out[512], err[512], err2[512];
	qa_array a, b;
	int rc, rc2;

	snprintf(in, sizeof in, "%s/in.npy", dir);
	snprintf(out, sizeof out, "%s/out.npy", dir);
	fuzz_write_file(in, data, size);

	rc = qa_npy_read(in, &a, err, sizeof err);
	if (rc == QA_OK)
		check_array(&a, size);
	else
		check_failure(rc, &a, err);

	/* the same bytes through a pipe */
	rc2 = read_via_pipe(data, size, &b, err2, sizeof err2);
	if (rc2 != -1) {
		/* the same error too: a short pipe is a format error, not a
		 * reason to run out of memory */
		FUZZ_CHECK(rc2 == rc, "file: %d (%s), pipe: %d (%s)", rc, err,
			   rc2, err2);
		if (rc2 == QA_OK) {
			check_array(&b, size);
			check_same(&a, &b, "file vs pipe");
		} else {
			check_failure(rc2, &b, err2);
		}
		qa_array_free(&b);
	}

	/* write it back and read it again */
	if (rc == QA_OK) {
		rc2 = qa_npy_write(out, &a, err2, sizeof err2);
		FUZZ_CHECK(rc2 == QA_OK, "cannot write back: %s", err2);
		rc2 = qa_npy_read(out, &b, err2, sizeof err2);
		FUZZ_CHECK(rc2 == QA_OK, "cannot read back: %s", err2);
		check_same(&a, &b, "write + read");
		qa_array_free(&b);
	}
	qa_array_free(&a);
	return 0;
}

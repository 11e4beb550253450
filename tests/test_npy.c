/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_npy.c - checks the .npy reader and writer (host/src/npy.c).
 *
 * Round trips of every dtype and rank; files built byte by byte as numpy
 * writes them (format 1.0, 2.0, 3.0, big-endian); and one check per way a
 * file can be malformed. Everything lives in a mkdtemp() directory that is
 * removed at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "qarray.h"

typedef struct tctx {
	check_ctx c;
	char dir[64];
	char path[256]; /* scratch: the last path built by tpath() */
} tctx;

static const char *tpath(tctx *t, const char *name)
{
	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, name);
	return t->path;
}

static int write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(buf, 1, len, f) == len;
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

/* Whole file into a malloc'd buffer; NULL on failure. */
static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		size_t got;

		if (n == cap) {
			unsigned char *nb = realloc(buf, cap ? cap * 2 : 4096);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap = cap ? cap * 2 : 4096;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* Number of entries in the test directory (excluding . and ..). */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

/*
 * A preamble: magic, version, header length (2 bytes for 1.0, else 4), the
 * dict text, nspaces spaces and '\n'. Returns its length.
 */
static size_t build_preamble(unsigned char *buf, unsigned major,
			     const char *dict, size_t nspaces)
{
	size_t lenbytes = major == 1 ? 2 : 4;
	size_t dl = strlen(dict);
	size_t hlen = dl + nspaces + 1;
	size_t at = 0;

	memcpy(buf, "\x93NUMPY", 6);
	buf[6] = (unsigned char)major;
	buf[7] = 0;
	for (size_t i = 0; i < lenbytes; i++)
		buf[8 + i] = (unsigned char)(hlen >> (8 * i));
	at = 8 + lenbytes;
	memcpy(buf + at, dict, dl);
	at += dl;
	memset(buf + at, ' ', nspaces);
	at += nspaces;
	buf[at++] = '\n';
	return at;
}

/* Write preamble + data to name; returns the path. */
static const char *make_npy(tctx *t, const char *name, unsigned major,
			    const char *dict, size_t nspaces, const void *data,
			    size_t dlen)
{
	unsigned char buf[8192];
	size_t n = build_preamble(buf, major, dict, nspaces);

	if (n + dlen > sizeof(buf))
		return NULL;
	memcpy(buf + n, data, dlen);
	if (write_file(tpath(t, name), buf, n + dlen) != 0)
		return NULL;
	return t->path;
}

/*
 * Read a file that must be rejected with rc, leaving the array empty and a
 * message that names the file and contains want.
 */
static void expect_reject(tctx *t, const char *name, const char *path,
			  int rc_want, const char *want)
{
	qa_array a;
	char err[256] = "";
	char prefix[300];
	int rc;

	memset(&a, 0x55, sizeof(a));
	if (!path) {
		check(&t->c, 0, name, "could not build the test file");
		return;
	}
	rc = qa_npy_read(path, &a, err, sizeof(err));
	snprintf(prefix, sizeof(prefix), "%s: ", path);
	check(&t->c, rc == rc_want && a.data == NULL &&
		     strncmp(err, prefix, strlen(prefix)) == 0 &&
		     strstr(err, want) != NULL,
	      name, "rc=%s (want %s), message \"%s\" (want \"%s\")",
	      qa_errname(rc), qa_errname(rc_want), err, want);
	qa_array_free(&a);
}

/* ---- round trips ---------------------------------------------------------------- */

static void fill_pattern(qa_array *a, unsigned seed)
{
	for (size_t i = 0; i < a->count; i++) {
		unsigned v = (unsigned)(i * 2654435761u + seed);

		switch (a->dtype) {
		case QA_DT_INT8:
			((int8_t *)a->data)[i] = (int8_t)(i == 0 ? -128 : (int)(v % 256) - 128);
			break;
		case QA_DT_UINT8:
			((uint8_t *)a->data)[i] = (uint8_t)(i == 0 ? 255 : v);
			break;
		case QA_DT_INT32:
			((int32_t *)a->data)[i] = i == 0 ? INT32_MIN :
				(int32_t)(v % 2000001u) - 1000000;
			break;
		case QA_DT_INT64:
			((int64_t *)a->data)[i] = i == 0 ? INT64_MIN :
				((int64_t)v << 20) * (i % 2 ? -1 : 1) + 3;
			break;
		case QA_DT_FLOAT32:
			((float *)a->data)[i] = i == 0 ? -0.0f :
				(float)((double)(v % 100000) / 64.0 - 700.0);
			break;
		}
	}
}

/* Write arr to name, read it back, compare everything. NULL if equal. */
static const char *roundtrip(tctx *t, const char *name, const qa_array *arr,
			     char *why, size_t whylen)
{
	qa_array b;
	char err[256] = "";
	size_t esz = qa_dtype_size(arr->dtype);
	size_t flen = 0;
	unsigned char *raw;
	int rc;

	rc = qa_npy_write(tpath(t, name), arr, err, sizeof(err));
	if (rc != QA_OK) {
		snprintf(why, whylen, "write: %s: %s", qa_errname(rc), err);
		return why;
	}
	raw = slurp(t->path, &flen);
	if (!raw || flen < 128 || (flen - arr->count * esz) % 64 != 0 ||
	    raw[flen - arr->count * esz - 1] != '\n') {
		free(raw);
		snprintf(why, whylen, "preamble not a multiple of 64 ending in '\\n' (file %zu bytes)",
			 flen);
		return why;
	}
	free(raw);
	rc = qa_npy_read(t->path, &b, err, sizeof(err));
	if (rc != QA_OK) {
		snprintf(why, whylen, "read: %s: %s", qa_errname(rc), err);
		return why;
	}
	if (b.dtype != arr->dtype || b.ndim != arr->ndim ||
	    b.count != arr->count ||
	    memcmp(b.shape, arr->shape, arr->ndim * sizeof(size_t)) != 0 ||
	    (arr->count && memcmp(b.data, arr->data, arr->count * esz) != 0)) {
		snprintf(why, whylen, "%s rank %u: read back differs",
			 qa_dtype_name(arr->dtype), arr->ndim);
		qa_array_free(&b);
		return why;
	}
	qa_array_free(&b);
	return NULL;
}

static void test_roundtrips(tctx *t)
{
	static const size_t shapes[5][4] = {
		{ 0 }, { 7 }, { 2, 3 }, { 2, 3, 4 }, { 2, 1, 3, 5 }
	};
	static const qa_dtype dts[5] = { QA_DT_INT8, QA_DT_UINT8, QA_DT_INT32,
					 QA_DT_INT64, QA_DT_FLOAT32 };
	static const char *const names[5] = {
		"roundtrip_int8_rank0_to_4", "roundtrip_uint8_rank0_to_4",
		"roundtrip_int32_rank0_to_4", "roundtrip_int64_rank0_to_4",
		"roundtrip_float32_rank0_to_4"
	};
	char why[300];

	for (int di = 0; di < 5; di++) {
		const char *bad = NULL;

		for (unsigned rank = 0; rank <= 4 && !bad; rank++) {
			qa_array a = { .dtype = dts[di], .ndim = rank, .count = 1 };

			for (unsigned i = 0; i < rank; i++) {
				a.shape[i] = shapes[rank][i];
				a.count *= a.shape[i];
			}
			a.data = malloc(a.count * qa_dtype_size(a.dtype));
			if (!a.data) {
				bad = "out of memory";
				break;
			}
			fill_pattern(&a, (unsigned)(di * 10 + rank));
			bad = roundtrip(t, "rt.npy", &a, why, sizeof(why));
			free(a.data);
		}
		check(&t->c, bad == NULL, names[di], "%s", bad);
	}

	/* zero elements: shape (0, 3) */
	{
		qa_array a = { .dtype = QA_DT_INT32, .ndim = 2,
			       .shape = { 0, 3 }, .count = 0, .data = NULL };
		const char *bad = roundtrip(t, "empty.npy", &a, why, sizeof(why));

		check(&t->c, bad == NULL, "roundtrip_empty_0x3", "%s", bad);
	}
	/* larger than the writer's conversion chunk, odd length */
	{
		qa_array a = { .dtype = QA_DT_FLOAT32, .ndim = 2,
			       .shape = { 1000, 37 }, .count = 37000 };
		const char *bad;

		a.data = malloc(a.count * 4);
		if (a.data) {
			fill_pattern(&a, 99);
			bad = roundtrip(t, "big.npy", &a, why, sizeof(why));
		} else {
			bad = "out of memory";
		}
		free(a.data);
		check(&t->c, bad == NULL, "roundtrip_float32_1000x37", "%s", bad);
	}
	/* writing over an existing file replaces it */
	{
		int8_t d1[4] = { 1, 2, 3, 4 }, d2[2] = { -5, 6 };
		qa_array a1 = { .dtype = QA_DT_INT8, .ndim = 1, .shape = { 4 },
				.count = 4, .data = d1 };
		qa_array a2 = { .dtype = QA_DT_INT8, .ndim = 1, .shape = { 2 },
				.count = 2, .data = d2 };
		qa_array b = { 0 };
		char err[256] = "";
		int rc1 = qa_npy_write(tpath(t, "over.npy"), &a1, err, sizeof(err));
		int rc2 = qa_npy_write(t->path, &a2, err, sizeof(err));
		int rc3 = qa_npy_read(t->path, &b, err, sizeof(err));

		struct stat st;

		memset(&st, 0, sizeof(st));
		check(&t->c, rc1 == QA_OK && rc2 == QA_OK && rc3 == QA_OK &&
			     b.count == 2 && ((int8_t *)b.data)[0] == -5 &&
			     ((int8_t *)b.data)[1] == 6,
		      "write_replaces_existing", "rc=%d/%d/%d %s", rc1, rc2, rc3,
		      err);
		/* not mkstemp's 0600: a data file others may read */
		check(&t->c, stat(t->path, &st) == 0 &&
			     (st.st_mode & 0777) == 0644,
		      "write_file_mode_0644", "mode %o",
		      (unsigned)(st.st_mode & 0777));
		qa_array_free(&b);
		unlink(t->path);
	}
}

/* ---- byte-exact files ---------------------------------------------------------- */

static void test_exact_files(tctx *t)
{
	/* np.save of np.arange(6, dtype=np.int8).reshape(2, 3): 128-byte preamble */
	static const char dict_i1[] =
		"{'descr': '|i1', 'fortran_order': False, 'shape': (2, 3), }";
	static const int8_t d6[6] = { 0, 1, 2, 3, 4, 5 };
	unsigned char ref[256];
	size_t reflen = build_preamble(ref, 1, dict_i1, 58);
	qa_array a = { 0 };
	char err[256] = "";
	const char *p;
	int rc;

	memcpy(ref + reflen, d6, 6);
	check(&t->c, reflen == 128 && ref[8] == 0x76 && ref[9] == 0,
	      "numpy_v1_reference_preamble_128", "preamble %zu bytes", reflen);
	p = make_npy(t, "np_v1.npy", 1, dict_i1, 58, d6, 6);
	rc = p ? qa_npy_read(p, &a, err, sizeof(err)) : QA_ERR_IO;
	check(&t->c, rc == QA_OK && a.dtype == QA_DT_INT8 && a.ndim == 2 &&
		     a.shape[0] == 2 && a.shape[1] == 3 && a.count == 6 &&
		     memcmp(a.data, d6, 6) == 0,
	      "read_numpy_v1_int8_2x3", "rc=%s %s", qa_errname(rc), err);

	/* the writer produces exactly those bytes */
	{
		size_t flen = 0;
		unsigned char *raw;

		rc = qa_npy_write(tpath(t, "ours_v1.npy"), &a, err, sizeof(err));
		raw = rc == QA_OK ? slurp(t->path, &flen) : NULL;
		check(&t->c, raw && flen == reflen + 6 &&
			     memcmp(raw, ref, reflen + 6) == 0,
		      "write_matches_numpy_bytes_int8_2x3", "rc=%s len=%zu %s",
		      qa_errname(rc), flen, err);
		free(raw);
	}
	qa_array_free(&a);

	/* np.save of np.arange(3, dtype='<i4') and of np.array(-2, dtype='<i8') */
	{
		static const char dict_i4[] =
			"{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }";
		static const char dict_i8[] =
			"{'descr': '<i8', 'fortran_order': False, 'shape': (), }";
		static const unsigned char data_i4[12] = { 0, 0, 0, 0, 1, 0, 0, 0,
							   2, 0, 0, 0 };
		static const unsigned char data_i8[8] = { 0xfe, 0xff, 0xff, 0xff,
							  0xff, 0xff, 0xff, 0xff };
		int32_t v4[3] = { 0, 1, 2 };
		int64_t v8 = -2;
		qa_array a4 = { .dtype = QA_DT_INT32, .ndim = 1, .shape = { 3 },
				.count = 3, .data = v4 };
		qa_array a8 = { .dtype = QA_DT_INT64, .ndim = 0, .count = 1,
				.data = &v8 };
		unsigned char r4[256], r8[256], *raw4, *raw8;
		size_t l4 = build_preamble(r4, 1, dict_i4, 60);
		size_t l8 = build_preamble(r8, 1, dict_i8, 62);
		size_t f4 = 0, f8 = 0;
		int rc4, rc8;

		memcpy(r4 + l4, data_i4, 12);
		memcpy(r8 + l8, data_i8, 8);
		rc4 = qa_npy_write(tpath(t, "i4.npy"), &a4, err, sizeof(err));
		raw4 = rc4 == QA_OK ? slurp(t->path, &f4) : NULL;
		rc8 = qa_npy_write(tpath(t, "i8.npy"), &a8, err, sizeof(err));
		raw8 = rc8 == QA_OK ? slurp(t->path, &f8) : NULL;
		check(&t->c, l4 == 128 && l8 == 128 && raw4 && raw8 &&
			     f4 == l4 + 12 && memcmp(raw4, r4, f4) == 0 &&
			     f8 == l8 + 8 && memcmp(raw8, r8, f8) == 0,
		      "write_matches_numpy_bytes_1d_0d", "rc=%d/%d len=%zu/%zu",
		      rc4, rc8, f4, f8);
		free(raw4);
		free(raw8);
	}

	/* A header that is already aligned still gets 64 spaces (numpy's rule),
	 * and the growth room of the first axis is part of the length. (The
	 * dimensions need a 64-bit size_t.) */
#if SIZE_MAX > 0xffffffffu
	{
		static const char dict4[] =
			"{'descr': '|i1', 'fortran_order': False, 'shape': (0, 100000000000, 100000000000, 10000000000), }";
		qa_array a0 = { .dtype = QA_DT_INT8, .ndim = 4,
				.shape = { 0, 100000000000u, 100000000000u,
					   10000000000u },
				.count = 0 };
		qa_array b = { 0 };
		unsigned char r[256], *raw;
		size_t rl = build_preamble(r, 1, dict4, 20 + 64);
		size_t fl = 0;

		rc = qa_npy_write(tpath(t, "aligned.npy"), &a0, err, sizeof(err));
		raw = rc == QA_OK ? slurp(t->path, &fl) : NULL;
		int okw = rl == 192 && raw && fl == rl && memcmp(raw, r, rl) == 0;
		rc = qa_npy_read(t->path, &b, err, sizeof(err));
		check(&t->c, okw && rc == QA_OK && b.ndim == 4 && b.count == 0 &&
			     b.shape[3] == 10000000000u,
		      "write_matches_numpy_bytes_aligned_header",
		      "preamble %zu bytes (want %zu), read %s %s", fl, rl,
		      qa_errname(rc), err);
		free(raw);
		qa_array_free(&b);
	}
#endif

	/* format 2.0 and 3.0: 4-byte header length */
	{
		static const char dict[] =
			"{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }";
		static const unsigned char data[12] = { 0xff, 0xff, 0xff, 0xff,
							2, 0, 0, 0,
							0xff, 0xff, 0xff, 0x7f };
		for (unsigned major = 2; major <= 3; major++) {
			qa_array b = { 0 };

			p = make_npy(t, "v2.npy", major, dict, 58, data, 12);
			rc = p ? qa_npy_read(p, &b, err, sizeof(err)) : QA_ERR_IO;
			check(&t->c, rc == QA_OK && b.dtype == QA_DT_INT32 &&
				     b.ndim == 1 && b.count == 3 &&
				     ((int32_t *)b.data)[0] == -1 &&
				     ((int32_t *)b.data)[1] == 2 &&
				     ((int32_t *)b.data)[2] == INT32_MAX,
			      major == 2 ? "read_v2_int32" : "read_v3_int32",
			      "rc=%s %s", qa_errname(rc), err);
			qa_array_free(&b);
		}
	}

	/* big-endian data is converted to native order */
	{
		static const unsigned char be4[16] = {
			0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04,
			0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07 };
		static const unsigned char be8[16] = {
			0x80, 0, 0, 0, 0, 0, 0, 0x01,
			0x00, 0, 0, 0x01, 0, 0, 0, 0 };
		static const unsigned char bef[8] = { 0x3f, 0xc0, 0, 0,
						      0xc0, 0x10, 0, 0 };
		qa_array b = { 0 };

		p = make_npy(t, "be4.npy", 1,
			     "{'descr': '>i4', 'fortran_order': False, 'shape': (2, 2), }",
			     50, be4, 16);
		rc = p ? qa_npy_read(p, &b, err, sizeof(err)) : QA_ERR_IO;
		check(&t->c, rc == QA_OK && b.dtype == QA_DT_INT32 &&
			     b.count == 4 && ((int32_t *)b.data)[0] == -1 &&
			     ((int32_t *)b.data)[1] == 0x01020304 &&
			     ((int32_t *)b.data)[2] == INT32_MIN &&
			     ((int32_t *)b.data)[3] == 7,
		      "read_big_endian_i4", "rc=%s %s", qa_errname(rc), err);
		qa_array_free(&b);

		p = make_npy(t, "be8.npy", 1,
			     "{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }",
			     50, be8, 16);
		rc = p ? qa_npy_read(p, &b, err, sizeof(err)) : QA_ERR_IO;
		check(&t->c, rc == QA_OK && b.dtype == QA_DT_INT64 &&
			     b.count == 2 &&
			     ((int64_t *)b.data)[0] == INT64_MIN + 1 &&
			     ((int64_t *)b.data)[1] == (int64_t)1 << 32,
		      "read_big_endian_i8", "rc=%s %s", qa_errname(rc), err);
		qa_array_free(&b);

		p = make_npy(t, "bef.npy", 1,
			     "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
			     50, bef, 8);
		rc = p ? qa_npy_read(p, &b, err, sizeof(err)) : QA_ERR_IO;
		check(&t->c, rc == QA_OK && b.dtype == QA_DT_FLOAT32 &&
			     b.count == 2 && ((float *)b.data)[0] == 1.5f &&
			     ((float *)b.data)[1] == -2.25f,
		      "read_big_endian_f4", "rc=%s %s", qa_errname(rc), err);
		qa_array_free(&b);
	}

	/* header variants numpy's literal_eval also accepts */
	{
		static const unsigned char d6u[6] = { 9, 8, 7, 6, 5, 255 };
		static const struct {
			const char *name, *dict;
		} v[] = {
			{ "header_keys_any_order_spaces",
			  "{ \"shape\" : ( 2 , 3 ) ,'fortran_order':False,'descr':'|u1' }" },
			{ "header_trailing_comma_in_shape",
			  "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3,), }" },
			{ "header_python2_long_dims",
			  "{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 3L), }" },
			{ "header_no_trailing_comma",
			  "{'descr':'u1','fortran_order':False,'shape':(6,)}" },
		};

		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			qa_array b = { 0 };

			p = make_npy(t, "var.npy", 1, v[i].dict, 3, d6u, 6);
			rc = p ? qa_npy_read(p, &b, err, sizeof(err)) : QA_ERR_IO;
			check(&t->c, rc == QA_OK && b.dtype == QA_DT_UINT8 &&
				     b.count == 6 &&
				     memcmp(b.data, d6u, 6) == 0,
			      v[i].name, "rc=%s %s", qa_errname(rc), err);
			qa_array_free(&b);
		}
	}
}

/* ---- rejections --------------------------------------------------------------------- */

static void test_rejections(tctx *t)
{
	static const char ok_dict[] =
		"{'descr': '|i1', 'fortran_order': False, 'shape': (2, 3), }";
	unsigned char data[4096];
	unsigned char buf[256];
	size_t n;
	const char *p;

	memset(data, 1, sizeof(data));

	p = make_npy(t, "X.npy", 1,
		     "{'descr': '|i1', 'fortran_order': False, 'shape': (64, 64), }",
		     10, data, 100);
	expect_reject(t, "reject_truncated_data", p, QA_ERR_FORMAT,
		      "truncated data: expected 4096 bytes, found 100");

	p = make_npy(t, "trail.npy", 1, ok_dict, 58, data, 7);
	expect_reject(t, "reject_trailing_data", p, QA_ERR_FORMAT,
		      "trailing data: expected 6 bytes, found 7");

	p = make_npy(t, "magic.npy", 1, ok_dict, 58, data, 6);
	if (p) { /* corrupt the magic: "\x93NUMPX" */
		n = build_preamble(buf, 1, ok_dict, 58);
		buf[5] = 'X';
		memcpy(buf + n, data, 6);
		if (write_file(p, buf, n + 6) != 0)
			p = NULL;
	}
	expect_reject(t, "reject_bad_magic", p, QA_ERR_FORMAT, "magic");

	p = write_file(tpath(t, "text.npy"), "hello", 5) == 0 ? t->path : NULL;
	expect_reject(t, "reject_short_file", p, QA_ERR_FORMAT, "magic");

	p = write_file(tpath(t, "empty.npy"), "", 0) == 0 ? t->path : NULL;
	expect_reject(t, "reject_empty_file", p, QA_ERR_FORMAT, "magic");

	p = make_npy(t, "ver.npy", 4, ok_dict, 56, data, 6);
	expect_reject(t, "reject_version_4_0", p, QA_ERR_FORMAT,
		      "unsupported format version 4.0");
	n = build_preamble(buf, 1, ok_dict, 58);
	buf[7] = 1; /* 1.1 */
	memcpy(buf + n, data, 6);
	p = write_file(tpath(t, "ver11.npy"), buf, n + 6) == 0 ? t->path : NULL;
	expect_reject(t, "reject_version_1_1", p, QA_ERR_FORMAT,
		      "unsupported format version 1.1");

	p = make_npy(t, "fortran.npy", 1,
		     "{'descr': '|i1', 'fortran_order': True, 'shape': (2, 3), }",
		     58, data, 6);
	expect_reject(t, "reject_fortran_order_true", p, QA_ERR_FORMAT,
		      "fortran_order True");

	p = make_npy(t, "c8.npy", 1,
		     "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }",
		     58, data, 16);
	expect_reject(t, "reject_unknown_descr_c8", p, QA_ERR_FORMAT,
		      "unsupported dtype '<c8'");

	p = make_npy(t, "i4nobo.npy", 1,
		     "{'descr': '|i4', 'fortran_order': False, 'shape': (2,), }",
		     58, data, 8);
	expect_reject(t, "reject_multibyte_without_byte_order", p,
		      QA_ERR_FORMAT, "byte order");

	p = make_npy(t, "nd5.npy", 1,
		     "{'descr': '|i1', 'fortran_order': False, 'shape': (1, 1, 2, 1, 1), }",
		     58, data, 2);
	expect_reject(t, "reject_ndim_5", p, QA_ERR_FORMAT,
		      "5 dimensions, at most 4");

	p = make_npy(t, "ovf.npy", 1,
		     "{'descr': '|i1', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }",
		     10, data, 8);
	expect_reject(t, "reject_shape_overflow", p, QA_ERR_FORMAT,
		      "shape overflow");

	p = make_npy(t, "ovf1.npy", 1,
		     "{'descr': '|i1', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
		     10, data, 8);
	expect_reject(t, "reject_dim_overflow", p, QA_ERR_FORMAT,
		      "shape overflow");

	p = make_npy(t, "ovf8.npy", 1,
		     "{'descr': '<i8', 'fortran_order': False, 'shape': (4611686018427387904,), }",
		     10, data, 8);
	expect_reject(t, "reject_bytes_overflow", p, QA_ERR_FORMAT,
		      "shape overflow");

	p = make_npy(t, "huge.npy", 1,
		     "{'descr': '|i1', 'fortran_order': False, 'shape': (1099511627776,), }",
		     10, data, 8);
#if SIZE_MAX > 0xffffffffu
	expect_reject(t, "reject_huge_shape_before_alloc", p, QA_ERR_FORMAT,
		      "truncated data: expected 1099511627776 bytes, found 8");
#else
	expect_reject(t, "reject_huge_shape_before_alloc", p, QA_ERR_FORMAT,
		      "shape overflow");
#endif

	n = build_preamble(buf, 1, ok_dict, 58);
	buf[8] = 0x00; /* header length 0x1000, file has 134 bytes */
	buf[9] = 0x10;
	memcpy(buf + n, data, 6);
	p = write_file(tpath(t, "hlen.npy"), buf, n + 6) == 0 ? t->path : NULL;
	expect_reject(t, "reject_header_len_beyond_file", p, QA_ERR_FORMAT,
		      "beyond the end of the file");

	n = build_preamble(buf, 2, ok_dict, 56);
	buf[8] = 0; /* header length 2^24 in a 4-byte field */
	buf[9] = 0;
	buf[10] = 0;
	buf[11] = 1;
	p = write_file(tpath(t, "hbig.npy"), buf, n) == 0 ? t->path : NULL;
	expect_reject(t, "reject_header_len_over_limit", p, QA_ERR_FORMAT,
		      "exceeds the limit");

	p = write_file(tpath(t, "cut.npy"), "\x93NUMPY\x01\x00\x76", 9) == 0 ?
		    t->path : NULL;
	expect_reject(t, "reject_file_ends_in_length", p, QA_ERR_FORMAT,
		      "header length");

	p = make_npy(t, "notuple.npy", 1,
		     "{'descr': '|i1', 'fortran_order': False, 'shape': (6), }",
		     58, data, 6);
	expect_reject(t, "reject_shape_not_tuple", p, QA_ERR_FORMAT,
		      "not a tuple");

	p = make_npy(t, "neg.npy", 1,
		     "{'descr': '|i1', 'fortran_order': False, 'shape': (-6,), }",
		     58, data, 6);
	expect_reject(t, "reject_negative_dim", p, QA_ERR_FORMAT, "negative");

	p = make_npy(t, "nokey.npy", 1, "{'descr': '|i1', 'shape': (6,), }",
		     58, data, 6);
	expect_reject(t, "reject_missing_key", p, QA_ERR_FORMAT,
		      "missing key 'fortran_order'");

	p = make_npy(t, "dupkey.npy", 1,
		     "{'descr': '|i1', 'descr': '|i1', 'fortran_order': False, 'shape': (6,), }",
		     58, data, 6);
	expect_reject(t, "reject_duplicate_key", p, QA_ERR_FORMAT,
		      "'descr' appears twice");

	p = make_npy(t, "unkkey.npy", 1,
		     "{'descr': '|i1', 'fortran_order': False, 'shape': (6,), 'x': 1, }",
		     58, data, 6);
	expect_reject(t, "reject_unknown_key", p, QA_ERR_FORMAT,
		      "unknown key 'x'");

	p = make_npy(t, "garbage.npy", 1,
		     "{'descr': '|i1', 'fortran_order': False, 'shape': (6,), } x",
		     58, data, 6);
	expect_reject(t, "reject_text_after_dict", p, QA_ERR_FORMAT,
		      "only padding after the header dict");

	p = make_npy(t, "unterm.npy", 1, "{'descr: |i1", 10, data, 6);
	expect_reject(t, "reject_unterminated_string", p, QA_ERR_FORMAT,
		      "unterminated string");

	p = make_npy(t, "boolx.npy", 1,
		     "{'descr': '|i1', 'fortran_order': 0, 'shape': (6,), }",
		     58, data, 6);
	expect_reject(t, "reject_fortran_order_not_bool", p, QA_ERR_FORMAT,
		      "True or False");

	expect_reject(t, "reject_missing_file_io", tpath(t, "nonexistent.npy"),
		      QA_ERR_IO, strerror(ENOENT));
	expect_reject(t, "reject_directory_io", t->dir, QA_ERR_IO,
		      "directory");

	/* NULL arguments, NULL or tiny error buffers */
	{
		qa_array a = { 0 };
		char tiny[8];
		int rc1, rc2, rc3;

		p = make_npy(t, "trail2.npy", 1, ok_dict, 58, data, 9);
		rc1 = qa_npy_read(p, &a, NULL, 0);
		memset(tiny, 'z', sizeof(tiny));
		rc2 = qa_npy_read(p, &a, tiny, sizeof(tiny));
		rc3 = qa_npy_read(NULL, &a, NULL, 0);
		check(&t->c, rc1 == QA_ERR_FORMAT && rc2 == QA_ERR_FORMAT &&
			     rc3 == QA_ERR_INVALID &&
			     qa_npy_read(p, NULL, NULL, 0) == QA_ERR_INVALID &&
			     tiny[7] == '\0' && a.data == NULL,
		      "read_null_args_and_small_errbuf", "rc=%d/%d/%d", rc1,
		      rc2, rc3);
	}
}

/* ---- writer failures ---------------------------------------------------------------- */

static void test_write_errors(tctx *t)
{
	int8_t d[6] = { 0 };
	qa_array a = { .dtype = QA_DT_INT8, .ndim = 2, .shape = { 2, 3 },
		       .count = 6, .data = d };
	qa_array bad;
	char err[256] = "";
	struct stat st;
	int before = count_entries(t->dir);
	int rc;

	rc = qa_npy_write(tpath(t, "nodir/x.npy"), &a, err, sizeof(err));
	check(&t->c, rc == QA_ERR_IO && stat(t->path, &st) != 0 &&
		     strstr(err, "nodir/x.npy") != NULL &&
		     strstr(err, strerror(ENOENT)) != NULL,
	      "write_nonexistent_dir_io", "rc=%s \"%s\"", qa_errname(rc), err);

	/* an existing directory, FIFO or device is never replaced: the
	 * writer refuses before creating its temporary file */
	if (mkdir(tpath(t, "adir"), 0755) != 0) {
		check(&t->c, 0, "write_refuses_directory", "mkdir: %s",
		      strerror(errno));
	} else {
		before = count_entries(t->dir);
		rc = qa_npy_write(t->path, &a, err, sizeof(err));
		check(&t->c, rc == QA_ERR_INVALID &&
			     strstr(err, "not a regular file") != NULL &&
			     count_entries(t->dir) == before &&
			     stat(t->path, &st) == 0 && S_ISDIR(st.st_mode),
		      "write_refuses_directory", "rc=%s entries %d -> %d \"%s\"",
		      qa_errname(rc), before, count_entries(t->dir), err);
		rmdir(t->path);
	}
	if (mkfifo(tpath(t, "afifo"), 0644) != 0) {
		check(&t->c, 0, "write_refuses_fifo", "mkfifo: %s",
		      strerror(errno));
	} else {
		before = count_entries(t->dir);
		rc = qa_npy_write(t->path, &a, err, sizeof(err));
		check(&t->c, rc == QA_ERR_INVALID &&
			     count_entries(t->dir) == before &&
			     stat(t->path, &st) == 0 && S_ISFIFO(st.st_mode),
		      "write_refuses_fifo", "rc=%s entries %d -> %d \"%s\"",
		      qa_errname(rc), before, count_entries(t->dir), err);
		unlink(t->path);
	}

	before = count_entries(t->dir);
	rc = qa_npy_write(tpath(t, "sub/"), &a, err, sizeof(err));
	check(&t->c, rc == QA_ERR_INVALID && strstr(err, "directory") != NULL &&
		     count_entries(t->dir) == before,
	      "write_rejects_trailing_slash", "rc=%s \"%s\"", qa_errname(rc),
	      err);
	bad = a;
	bad.count = 5;
	rc = qa_npy_write(tpath(t, "bad1.npy"), &bad, err, sizeof(err));
	check(&t->c, rc == QA_ERR_INVALID && strstr(err, "count") != NULL,
	      "write_rejects_count_mismatch", "rc=%s \"%s\"", qa_errname(rc), err);
	bad = a;
	bad.ndim = 5;
	rc = qa_npy_write(tpath(t, "bad2.npy"), &bad, err, sizeof(err));
	check(&t->c, rc == QA_ERR_INVALID, "write_rejects_ndim_5", "rc=%s",
	      qa_errname(rc));
	bad = a;
	bad.data = NULL;
	rc = qa_npy_write(tpath(t, "bad3.npy"), &bad, err, sizeof(err));
	check(&t->c, rc == QA_ERR_INVALID, "write_rejects_null_data", "rc=%s",
	      qa_errname(rc));
	bad = a;
	bad.dtype = (qa_dtype)17;
	rc = qa_npy_write(tpath(t, "bad4.npy"), &bad, err, sizeof(err));
	check(&t->c, rc == QA_ERR_INVALID && count_entries(t->dir) == before &&
		     qa_npy_write(NULL, &a, NULL, 0) == QA_ERR_INVALID &&
		     qa_npy_write(tpath(t, "bad5.npy"), NULL, NULL, 0) ==
			     QA_ERR_INVALID,
	      "write_rejects_bad_dtype_and_null", "rc=%s, %d entries (want %d)",
	      qa_errname(rc), count_entries(t->dir), before);
}

/*
 * A pipe has no size to check up front: the reader must still find short
 * and long data while reading. A child process feeds a FIFO.
 */
static int read_via_fifo(tctx *t, const unsigned char *bytes, size_t len,
			 qa_array *a, char *err, size_t errlen)
{
	const char *fifo = tpath(t, "pipe.npy");
	pid_t pid;
	int rc, status = 0;

	unlink(fifo);
	if (mkfifo(fifo, 0600) != 0)
		return 1000;
	pid = fork();
	if (pid < 0)
		return 1001;
	if (pid == 0) {
		FILE *f = fopen(fifo, "wb");
		int ok = f && fwrite(bytes, 1, len, f) == len;

		/* the reader may close early: a failed write is fine */
		if (f)
			fclose(f);
		_exit(ok ? 0 : 1);
	}
	rc = qa_npy_read(fifo, a, err, errlen);
	waitpid(pid, &status, 0);
	unlink(fifo);
	return rc;
}

static void test_fifo(tctx *t)
{
	static const char dict[] =
		"{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }";
	unsigned char buf[256];
	size_t n = build_preamble(buf, 1, dict, 60);
	qa_array a = { 0 };
	char err[256] = "";
	int rc;

	memcpy(buf + n, "\x01\x00\x00\x00\xff\xff\xff\xff\x05", 9);
	rc = read_via_fifo(t, buf, n + 8, &a, err, sizeof(err));
	check(&t->c, rc == QA_OK && a.count == 2 &&
		     ((int32_t *)a.data)[0] == 1 && ((int32_t *)a.data)[1] == -1,
	      "read_fifo_ok", "rc=%d %s", rc, err);
	qa_array_free(&a);
	rc = read_via_fifo(t, buf, n + 9, &a, err, sizeof(err));
	check(&t->c, rc == QA_ERR_FORMAT && a.data == NULL &&
		     strstr(err, "trailing data") != NULL,
	      "reject_fifo_trailing_data", "rc=%d %s", rc, err);
	rc = read_via_fifo(t, buf, n + 5, &a, err, sizeof(err));
	check(&t->c, rc == QA_ERR_FORMAT && a.data == NULL &&
		     strstr(err, "truncated data: expected 8 bytes, found 5") != NULL,
	      "reject_fifo_truncated_data", "rc=%d %s", rc, err);
	rc = read_via_fifo(t, buf, 40, &a, err, sizeof(err));
	check(&t->c, rc == QA_ERR_FORMAT && a.data == NULL &&
		     strstr(err, "beyond the end") != NULL,
	      "reject_fifo_truncated_header", "rc=%d %s", rc, err);
}

static void test_dtypes(tctx *t)
{
	check(&t->c, !strcmp(qa_dtype_name(QA_DT_INT8), "int8") &&
		     !strcmp(qa_dtype_name(QA_DT_UINT8), "uint8") &&
		     !strcmp(qa_dtype_name(QA_DT_INT32), "int32") &&
		     !strcmp(qa_dtype_name(QA_DT_INT64), "int64") &&
		     !strcmp(qa_dtype_name(QA_DT_FLOAT32), "float32") &&
		     qa_dtype_name((qa_dtype)9) != NULL,
	      "dtype_names", "a name differs");
	check(&t->c, qa_dtype_size(QA_DT_INT8) == 1 &&
		     qa_dtype_size(QA_DT_UINT8) == 1 &&
		     qa_dtype_size(QA_DT_INT32) == 4 &&
		     qa_dtype_size(QA_DT_INT64) == 8 &&
		     qa_dtype_size(QA_DT_FLOAT32) == 4 &&
		     qa_dtype_size((qa_dtype)9) == 0,
	      "dtype_sizes", "a size differs");
	qa_array_free(NULL); /* must not crash */
}

int main(void)
{
	tctx t;
	int rc;

	memset(&t, 0, sizeof(t));
	snprintf(t.dir, sizeof(t.dir), "/tmp/qa_npy_XXXXXX");
	if (!mkdtemp(t.dir)) {
		printf("FAIL setup: mkdtemp: %s\n", strerror(errno));
		printf("0 passed, 1 failed\n");
		return 1;
	}
	test_dtypes(&t);
	test_roundtrips(&t);
	test_exact_files(&t);
	test_rejections(&t);
	test_write_errors(&t);
	test_fifo(&t);
	rc = check_summary(&t.c);
	remove_tree(t.dir);
	return rc;
}

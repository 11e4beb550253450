/* SPDX-License-Identifier: Apache-2.0 */
/*
 * npy.c - reader and writer of NumPy .npy files for the dtypes qarray uses.
 *
 * File layout (numpy.lib.format): the magic "\x93NUMPY", a major and a minor
 * version byte, the header length (little-endian, 2 bytes in format 1.0 and
 * 4 bytes in 2.0 and 3.0), the header - a Python dict literal with the keys
 * 'descr', 'fortran_order' and 'shape', padded with spaces and a '\n' - and
 * then the raw data in C order.
 *
 * The reader trusts nothing in the file: the header length is capped, every
 * size is checked for overflow before it is used, and the data length must
 * match the shape exactly (a longer file means a wrong shape, so it is an
 * error too). Values are assembled from bytes explicitly, so the code does not
 * depend on the byte order of the host.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* fileno */
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qarray.h"
#include "fileio.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_ALIGN 64           /* the preamble is padded to a multiple of this */
#define NPY_HEADER_MAX 65536u  /* longest header the reader accepts */
#define NPY_GROWTH_DIGITS 21   /* numpy leaves room for the first axis to grow */
#define NPY_STR_MAX 32         /* longest string value in a header we accept */
#define NPY_STREAM_CHUNK 65536u /* first buffer for the data of a pipe */

/* ---- dtypes -------------------------------------------------------------- */

const char *qa_dtype_name(qa_dtype dt)
{
	switch (dt) {
	case QA_DT_INT8:
		return "int8";
	case QA_DT_UINT8:
		return "uint8";
	case QA_DT_INT32:
		return "int32";
	case QA_DT_INT64:
		return "int64";
	case QA_DT_FLOAT32:
		return "float32";
	default:
		return "unknown";
	}
}

size_t qa_dtype_size(qa_dtype dt)
{
	switch (dt) {
	case QA_DT_INT8:
	case QA_DT_UINT8:
		return 1;
	case QA_DT_INT32:
	case QA_DT_FLOAT32:
		return 4;
	case QA_DT_INT64:
		return 8;
	default:
		return 0;
	}
}

/* The little-endian descr the writer puts in a header. */
static const char *dtype_descr(qa_dtype dt)
{
	switch (dt) {
	case QA_DT_INT8:
		return "|i1";
	case QA_DT_UINT8:
		return "|u1";
	case QA_DT_INT32:
		return "<i4";
	case QA_DT_INT64:
		return "<i8";
	case QA_DT_FLOAT32:
		return "<f4";
	default:
		return NULL;
	}
}

/* ---- error messages ------------------------------------------------------ */

/* Everything a failing step needs to report: "<path>: <problem>". */
typedef struct npy_ctx {
	const char *path;
	char *errbuf;
	size_t errlen;
} npy_ctx;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(const npy_ctx *cx, int rc, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!cx->errbuf || cx->errlen == 0)
		return rc;
	n = snprintf(cx->errbuf, cx->errlen, "%s: ",
		     cx->path ? cx->path : "(no path)");
	if (n < 0) {
		cx->errbuf[0] = '\0';
		return rc;
	}
	if ((size_t)n >= cx->errlen)
		return rc;
	va_start(ap, fmt);
	vsnprintf(cx->errbuf + n, cx->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- header parser --------------------------------------------------------- */

/*
 * The header is a Python dict literal. This accepts the subset numpy (any
 * version) writes and a little more: keys in any order, any whitespace
 * between tokens, either quote character, trailing commas, Python 2 'L'
 * suffixes on shape integers. Anything else is rejected with the offset.
 */
typedef struct npy_hdr {
	const char *s;
	size_t len, pos;
	/* results */
	qa_dtype dtype;
	int big_endian;
	int fortran_order;
	unsigned ndim;      /* as written in the file, may exceed the limit */
	size_t shape[QA_NPY_MAX_DIMS];
	int have_descr, have_fortran, have_shape;
} npy_hdr;

static int hdr_peek(const npy_hdr *h)
{
	return h->pos < h->len ? (unsigned char)h->s[h->pos] : -1;
}

static void hdr_skip_ws(npy_hdr *h)
{
	while (h->pos < h->len) {
		char c = h->s[h->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		h->pos++;
	}
}

/* "expected ':' at header offset 12, found 'x'" */
static int hdr_unexpected(const npy_ctx *cx, const npy_hdr *h,
			  const char *what)
{
	int c = hdr_peek(h);

	if (c < 0)
		return fail(cx, QA_ERR_FORMAT,
			    "bad header: expected %s at offset %zu, found the end of the header",
			    what, h->pos);
	if (c >= 0x20 && c < 0x7f)
		return fail(cx, QA_ERR_FORMAT,
			    "bad header: expected %s at offset %zu, found \"%c\"",
			    what, h->pos, c);
	return fail(cx, QA_ERR_FORMAT,
		    "bad header: expected %s at offset %zu, found byte 0x%02x",
		    what, h->pos, (unsigned)c);
}

static int hdr_expect(const npy_ctx *cx, npy_hdr *h, char c, const char *what)
{
	if (hdr_peek(h) != (unsigned char)c)
		return hdr_unexpected(cx, h, what);
	h->pos++;
	return QA_OK;
}

/* A quoted string without escapes, at most NPY_STR_MAX - 1 characters. */
static int hdr_string(const npy_ctx *cx, npy_hdr *h, char *out)
{
	int q = hdr_peek(h);
	size_t n = 0;

	if (q != '\'' && q != '"')
		return hdr_unexpected(cx, h, "a quoted string");
	h->pos++;
	for (;;) {
		int c = hdr_peek(h);

		if (c < 0 || c == '\n')
			return fail(cx, QA_ERR_FORMAT,
				    "bad header: unterminated string at offset %zu",
				    h->pos);
		h->pos++;
		if (c == q)
			break;
		if (c == '\\' || c < 0x20 || c >= 0x7f)
			return fail(cx, QA_ERR_FORMAT,
				    "bad header: unsupported character in a string at offset %zu",
				    h->pos - 1);
		if (n + 1 >= NPY_STR_MAX)
			return fail(cx, QA_ERR_FORMAT,
				    "bad header: string at offset %zu is too long",
				    h->pos);
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return QA_OK;
}

/* Map a descr string to a dtype and its byte order. */
static int hdr_descr(const npy_ctx *cx, npy_hdr *h, const char *descr)
{
	static const struct {
		const char *code;
		qa_dtype dt;
	} types[] = {
		{ "i1", QA_DT_INT8 },   { "u1", QA_DT_UINT8 },
		{ "i4", QA_DT_INT32 },  { "i8", QA_DT_INT64 },
		{ "f4", QA_DT_FLOAT32 },
	};
	const char *code = descr;
	char order = '\0';

	if (descr[0] == '<' || descr[0] == '>' || descr[0] == '|' ||
	    descr[0] == '=') {
		order = descr[0];
		code++;
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(code, types[i].code) != 0)
			continue;
		if (qa_dtype_size(types[i].dt) > 1 && order != '<' &&
		    order != '>')
			return fail(cx, QA_ERR_FORMAT,
				    "dtype '%s' has no explicit byte order ('<' or '>')",
				    descr);
		h->dtype = types[i].dt;
		h->big_endian = order == '>';
		return QA_OK;
	}
	return fail(cx, QA_ERR_FORMAT,
		    "unsupported dtype '%s' (supported: int8 '|i1', uint8 '|u1', int32 '<i4'/'>i4', int64 '<i8'/'>i8', float32 '<f4'/'>f4')",
		    descr);
}

static int hdr_bool(const npy_ctx *cx, npy_hdr *h, int *val)
{
	size_t left = h->len - h->pos;

	if (left >= 4 && memcmp(h->s + h->pos, "True", 4) == 0) {
		h->pos += 4;
		*val = 1;
	} else if (left >= 5 && memcmp(h->s + h->pos, "False", 5) == 0) {
		h->pos += 5;
		*val = 0;
	} else {
		return hdr_unexpected(cx, h, "True or False");
	}
	return QA_OK;
}

static int hdr_dim(const npy_ctx *cx, npy_hdr *h, size_t *val)
{
	size_t v = 0;
	size_t start = h->pos;
	int c;

	if (hdr_peek(h) == '-')
		return fail(cx, QA_ERR_FORMAT,
			    "bad header: negative dimension at offset %zu",
			    h->pos);
	while ((c = hdr_peek(h)) >= '0' && c <= '9') {
		unsigned d = (unsigned)(c - '0');

		if (v > (SIZE_MAX - d) / 10)
			return fail(cx, QA_ERR_FORMAT,
				    "shape overflow: dimension at header offset %zu does not fit in %zu bits",
				    start, sizeof(size_t) * 8);
		v = v * 10 + d;
		h->pos++;
	}
	if (h->pos == start)
		return hdr_unexpected(cx, h, "a dimension");
	c = hdr_peek(h);
	if (c == 'L' || c == 'l') /* Python 2 long literal */
		h->pos++;
	*val = v;
	return QA_OK;
}

/* "()" , "(3,)", "(2, 3)", "(2, 3,)"; "(3)" is an int in Python, not a tuple. */
static int hdr_shape(const npy_ctx *cx, npy_hdr *h)
{
	int trailing_comma = 0;
	int rc;

	rc = hdr_expect(cx, h, '(', "'(' opening the shape");
	if (rc)
		return rc;
	hdr_skip_ws(h);
	h->ndim = 0;
	if (hdr_peek(h) == ')') {
		h->pos++;
		return QA_OK;
	}
	for (;;) {
		size_t v = 0;

		rc = hdr_dim(cx, h, &v);
		if (rc)
			return rc;
		if (h->ndim < QA_NPY_MAX_DIMS)
			h->shape[h->ndim] = v;
		if (h->ndim < UINT32_MAX)
			h->ndim++;
		hdr_skip_ws(h);
		if (hdr_peek(h) == ')') {
			h->pos++;
			break;
		}
		rc = hdr_expect(cx, h, ',', "',' or ')' in the shape");
		if (rc)
			return rc;
		hdr_skip_ws(h);
		if (hdr_peek(h) == ')') {
			h->pos++;
			trailing_comma = 1;
			break;
		}
	}
	if (h->ndim == 1 && !trailing_comma)
		return fail(cx, QA_ERR_FORMAT,
			    "bad header: shape (%zu) is not a tuple (a 1-d shape is written (%zu,))",
			    h->shape[0], h->shape[0]);
	return QA_OK;
}

static int hdr_parse(const npy_ctx *cx, npy_hdr *h)
{
	char key[NPY_STR_MAX], val[NPY_STR_MAX];
	int rc;

	hdr_skip_ws(h);
	rc = hdr_expect(cx, h, '{', "'{' opening the header dict");
	if (rc)
		return rc;
	for (;;) {
		hdr_skip_ws(h);
		if (hdr_peek(h) == '}') {
			h->pos++;
			break;
		}
		rc = hdr_string(cx, h, key);
		if (rc)
			return rc;
		hdr_skip_ws(h);
		rc = hdr_expect(cx, h, ':', "':' after a key");
		if (rc)
			return rc;
		hdr_skip_ws(h);
		if (strcmp(key, "descr") == 0) {
			if (h->have_descr++)
				return fail(cx, QA_ERR_FORMAT,
					    "bad header: key 'descr' appears twice");
			rc = hdr_string(cx, h, val);
			if (rc)
				return rc;
			rc = hdr_descr(cx, h, val);
		} else if (strcmp(key, "fortran_order") == 0) {
			if (h->have_fortran++)
				return fail(cx, QA_ERR_FORMAT,
					    "bad header: key 'fortran_order' appears twice");
			rc = hdr_bool(cx, h, &h->fortran_order);
		} else if (strcmp(key, "shape") == 0) {
			if (h->have_shape++)
				return fail(cx, QA_ERR_FORMAT,
					    "bad header: key 'shape' appears twice");
			rc = hdr_shape(cx, h);
		} else {
			return fail(cx, QA_ERR_FORMAT,
				    "bad header: unknown key '%s'", key);
		}
		if (rc)
			return rc;
		hdr_skip_ws(h);
		if (hdr_peek(h) == '}') {
			h->pos++;
			break;
		}
		rc = hdr_expect(cx, h, ',', "',' or '}' after a value");
		if (rc)
			return rc;
	}
	hdr_skip_ws(h);
	if (h->pos != h->len)
		return hdr_unexpected(cx, h, "only padding after the header dict");
	if (!h->have_descr || !h->have_fortran || !h->have_shape)
		return fail(cx, QA_ERR_FORMAT,
			    "bad header: missing key '%s'",
			    !h->have_descr ? "descr" :
			    !h->have_fortran ? "fortran_order" : "shape");
	if (h->fortran_order)
		return fail(cx, QA_ERR_FORMAT,
			    "fortran_order True is not supported (save a C-ordered array, e.g. np.ascontiguousarray)");
	if (h->ndim > QA_NPY_MAX_DIMS)
		return fail(cx, QA_ERR_FORMAT,
			    "%u dimensions, at most %d are supported", h->ndim,
			    QA_NPY_MAX_DIMS);
	return QA_OK;
}

/* ---- byte order ------------------------------------------------------------ */

/* Rewrite count elements of size bytes from file order to native order. */
static void to_native(unsigned char *data, size_t count, size_t size, int big)
{
	if (size == 1)
		return;
	for (size_t i = 0; i < count; i++) {
		unsigned char *p = data + i * size;
		uint64_t v = 0;

		for (size_t b = 0; b < size; b++) {
			size_t at = big ? b : size - 1 - b;

			v = (v << 8) | p[at];
		}
		if (size == 4) {
			uint32_t v32 = (uint32_t)v;

			memcpy(p, &v32, 4);
		} else {
			memcpy(p, &v, 8);
		}
	}
}

/* ---- reader ------------------------------------------------------------------ */

static uint32_t get_le(const unsigned char *p, size_t n)
{
	uint32_t v = 0;

	while (n--)
		v = (v << 8) | p[n];
	return v;
}

int qa_npy_read(const char *path, qa_array *arr, char *errbuf, size_t errlen)
{
	npy_ctx cx = { path, errbuf, errlen };
	npy_hdr h;
	FILE *f = NULL;
	char *htext = NULL;
	unsigned char *data = NULL;
	unsigned char pre[12];
	struct stat st;
	int regular;
	uint64_t fsize = 0, preamble, avail;
	size_t n, lenbytes, hlen, count, size, nbytes, cap;
	int rc;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!arr) {
		rc = fail(&cx, QA_ERR_INVALID, "no array to read into");
		goto out;
	}
	memset(arr, 0, sizeof(*arr));
	if (!path) {
		rc = fail(&cx, QA_ERR_INVALID, "no path given");
		goto out;
	}

	f = fopen(path, "rb");
	if (!f) {
		rc = fail(&cx, QA_ERR_IO, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (fstat(fileno(f), &st) != 0) {
		rc = fail(&cx, QA_ERR_IO, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = fail(&cx, QA_ERR_IO, "cannot read: %s", strerror(EISDIR));
		goto out;
	}
	/* A regular file's size is known, so lengths are checked before
	 * anything is allocated; pipes are checked as they are read. */
	regular = S_ISREG(st.st_mode) && st.st_size >= 0;
	if (regular)
		fsize = (uint64_t)st.st_size;

	n = fread(pre, 1, NPY_MAGIC_LEN + 2, f);
	if (n < NPY_MAGIC_LEN + 2 && ferror(f)) {
		rc = fail(&cx, QA_ERR_IO, "read failed: %s", strerror(errno));
		goto out;
	}
	if (n < NPY_MAGIC_LEN ||
	    memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0) {
		rc = fail(&cx, QA_ERR_FORMAT,
			  "not a .npy file (missing the \\x93NUMPY magic)");
		goto out;
	}
	if (n < NPY_MAGIC_LEN + 2) {
		rc = fail(&cx, QA_ERR_FORMAT,
			  "file ends inside the format version");
		goto out;
	}
	if ((pre[6] != 1 && pre[6] != 2 && pre[6] != 3) || pre[7] != 0) {
		rc = fail(&cx, QA_ERR_FORMAT,
			  "unsupported format version %u.%u (1.0, 2.0 and 3.0 are supported)",
			  pre[6], pre[7]);
		goto out;
	}
	lenbytes = pre[6] == 1 ? 2 : 4;
	n = fread(pre + 8, 1, lenbytes, f);
	if (n < lenbytes) {
		if (ferror(f))
			rc = fail(&cx, QA_ERR_IO, "read failed: %s",
				  strerror(errno));
		else
			rc = fail(&cx, QA_ERR_FORMAT,
				  "file ends inside the header length");
		goto out;
	}
	hlen = get_le(pre + 8, lenbytes);
	if (hlen > NPY_HEADER_MAX) {
		rc = fail(&cx, QA_ERR_FORMAT,
			  "header length %zu exceeds the limit of %u bytes",
			  hlen, NPY_HEADER_MAX);
		goto out;
	}
	preamble = 8 + lenbytes + (uint64_t)hlen;
	if (regular && preamble > fsize) {
		rc = fail(&cx, QA_ERR_FORMAT,
			  "header length %zu goes beyond the end of the file (%llu bytes)",
			  hlen, (unsigned long long)fsize);
		goto out;
	}
	htext = malloc(hlen + 1);
	if (!htext) {
		rc = fail(&cx, QA_ERR_NOMEM, "out of memory for the header");
		goto out;
	}
	n = fread(htext, 1, hlen, f);
	if (n < hlen) {
		if (ferror(f))
			rc = fail(&cx, QA_ERR_IO, "read failed: %s",
				  strerror(errno));
		else
			rc = fail(&cx, QA_ERR_FORMAT,
				  "header length %zu goes beyond the end of the file",
				  hlen);
		goto out;
	}
	htext[hlen] = '\0';

	memset(&h, 0, sizeof(h));
	h.s = htext;
	h.len = hlen;
	rc = hdr_parse(&cx, &h);
	if (rc)
		goto out;

	count = 1;
	for (unsigned i = 0; i < h.ndim; i++) {
		if (h.shape[i] != 0 && count > SIZE_MAX / h.shape[i]) {
			rc = fail(&cx, QA_ERR_FORMAT,
				  "shape overflow: the element count does not fit in %zu bits",
				  sizeof(size_t) * 8);
			goto out;
		}
		count *= h.shape[i];
	}
	size = qa_dtype_size(h.dtype);
	if (count > SIZE_MAX / size) {
		rc = fail(&cx, QA_ERR_FORMAT,
			  "shape overflow: %zu elements of %zu bytes do not fit in memory",
			  count, size);
		goto out;
	}
	nbytes = count * size;

	if (regular) {
		avail = fsize - preamble;
		if (avail < nbytes) {
			rc = fail(&cx, QA_ERR_FORMAT,
				  "truncated data: expected %zu bytes, found %llu",
				  nbytes, (unsigned long long)avail);
			goto out;
		}
		if (avail > nbytes) {
			rc = fail(&cx, QA_ERR_FORMAT,
				  "trailing data: expected %zu bytes, found %llu (does the shape match?)",
				  nbytes, (unsigned long long)avail);
			goto out;
		}
	}

	/* A regular file holds exactly nbytes (checked above). A pipe's data
	 * is taken as it comes, in a buffer that grows with it (doubling, up
	 * to nbytes): its header may announce far more than ever arrives. */
	cap = regular || nbytes < NPY_STREAM_CHUNK ? nbytes : NPY_STREAM_CHUNK;
	data = malloc(cap ? cap : 1);
	n = 0;
	while (data) {
		unsigned char *grown;

		n += fread(data + n, 1, cap - n, f);
		if (n < cap || cap == nbytes)
			break;
		cap = cap > nbytes - cap ? nbytes : 2 * cap;
		grown = realloc(data, cap);
		if (!grown)
			free(data);
		data = grown;
	}
	if (!data) {
		rc = fail(&cx, QA_ERR_NOMEM,
			  "out of memory for %zu bytes of data", nbytes);
		goto out;
	}
	if (n < nbytes) {
		if (ferror(f))
			rc = fail(&cx, QA_ERR_IO, "read failed: %s",
				  strerror(errno));
		else
			rc = fail(&cx, QA_ERR_FORMAT,
				  "truncated data: expected %zu bytes, found %zu",
				  nbytes, n);
		goto out;
	}
	if (fgetc(f) != EOF) {
		rc = fail(&cx, QA_ERR_FORMAT,
			  "trailing data: more than the expected %zu bytes (does the shape match?)",
			  nbytes);
		goto out;
	}
	if (ferror(f)) {
		rc = fail(&cx, QA_ERR_IO, "read failed: %s", strerror(errno));
		goto out;
	}

	to_native(data, count, size, h.big_endian);
	arr->dtype = h.dtype;
	arr->ndim = h.ndim;
	for (unsigned i = 0; i < h.ndim; i++)
		arr->shape[i] = h.shape[i];
	arr->count = count;
	arr->data = data;
	data = NULL;
	rc = QA_OK;
out:
	if (f)
		fclose(f);
	free(htext);
	free(data);
	return rc;
}

/* ---- writer ------------------------------------------------------------------ */

/* Append to a fixed buffer; returns 0 or -1 if it would not fit. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int buf_add(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

/*
 * The preamble exactly as numpy (>= 1.24) writes it: the dict with sorted
 * keys, spare spaces so the first axis can grow to 21 digits, then spaces and
 * a '\n' so magic + version + length + header is a multiple of 64 bytes
 * (numpy always adds at least one space). Returns the preamble length or 0.
 */
static size_t make_preamble(const qa_array *arr, char *buf, size_t cap)
{
	size_t len = 10; /* magic, version, header length */
	size_t hlen, pad;
	int digits0 = 0;

	if (buf_add(buf, cap, &len,
		    "{'descr': '%s', 'fortran_order': False, 'shape': (",
		    dtype_descr(arr->dtype)))
		return 0;
	for (unsigned i = 0; i < arr->ndim; i++) {
		size_t before = len;

		if (buf_add(buf, cap, &len, "%s%zu", i ? ", " : "",
			    arr->shape[i]))
			return 0;
		if (i == 0)
			digits0 = (int)(len - before);
	}
	if (buf_add(buf, cap, &len, "%s), }", arr->ndim == 1 ? "," : ""))
		return 0;
	if (arr->ndim > 0 && digits0 < NPY_GROWTH_DIGITS &&
	    buf_add(buf, cap, &len, "%*s", NPY_GROWTH_DIGITS - digits0, ""))
		return 0;
	pad = NPY_ALIGN - (len + 1) % NPY_ALIGN;
	if (buf_add(buf, cap, &len, "%*s\n", (int)pad, ""))
		return 0;
	hlen = len - 10;
	memcpy(buf, NPY_MAGIC, NPY_MAGIC_LEN);
	buf[6] = 1;
	buf[7] = 0;
	buf[8] = (char)(hlen & 0xff);
	buf[9] = (char)(hlen >> 8);
	return len;
}

/* Write the data little-endian, whatever the host's byte order. */
static int write_data(FILE *f, const qa_array *arr, size_t size)
{
	const unsigned char *src = arr->data;
	unsigned char chunk[4096];
	size_t fill = 0;

	if (arr->count == 0)
		return 0;
	if (size == 1)
		return fwrite(src, 1, arr->count, f) == arr->count ? 0 : -1;
	for (size_t i = 0; i < arr->count; i++) {
		uint64_t v;

		if (size == 4) {
			uint32_t v32;

			memcpy(&v32, src + i * 4, 4);
			v = v32;
		} else {
			memcpy(&v, src + i * 8, 8);
		}
		for (size_t b = 0; b < size; b++) {
			chunk[fill++] = (unsigned char)(v & 0xff);
			v >>= 8;
		}
		if (fill == sizeof(chunk)) {
			if (fwrite(chunk, 1, fill, f) != fill)
				return -1;
			fill = 0;
		}
	}
	if (fill && fwrite(chunk, 1, fill, f) != fill)
		return -1;
	return 0;
}

/* the file's bytes, for qa_write_atomic */
typedef struct npy_emit_ctx {
	const char *pre;
	size_t plen;
	const qa_array *arr;
	size_t size;
} npy_emit_ctx;

static int npy_emit(FILE *f, void *ctx)
{
	const npy_emit_ctx *e = ctx;
	if (fwrite(e->pre, 1, e->plen, f) != e->plen ||
	    write_data(f, e->arr, e->size) != 0)
		return -1;
	return 0;
}

int qa_npy_write(const char *path, const qa_array *arr, char *errbuf,
		 size_t errlen)
{
	npy_ctx cx = { path, errbuf, errlen };
	char pre[256];
	size_t plen, count, size;
	int rc;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!path || !*path) {
		rc = fail(&cx, QA_ERR_INVALID, "no path given");
		goto out;
	}
	if (path[strlen(path) - 1] == '/') {
		rc = fail(&cx, QA_ERR_INVALID,
			  "the path names a directory, not a file");
		goto out;
	}
	if (!arr) {
		rc = fail(&cx, QA_ERR_INVALID, "no array to write");
		goto out;
	}
	size = qa_dtype_size(arr->dtype);
	if (size == 0) {
		rc = fail(&cx, QA_ERR_INVALID, "invalid dtype %d",
			  (int)arr->dtype);
		goto out;
	}
	if (arr->ndim > QA_NPY_MAX_DIMS) {
		rc = fail(&cx, QA_ERR_INVALID,
			  "%u dimensions, at most %d are supported", arr->ndim,
			  QA_NPY_MAX_DIMS);
		goto out;
	}
	count = 1;
	for (unsigned i = 0; i < arr->ndim; i++) {
		if (arr->shape[i] != 0 && count > SIZE_MAX / arr->shape[i]) {
			rc = fail(&cx, QA_ERR_INVALID, "shape overflow");
			goto out;
		}
		count *= arr->shape[i];
	}
	if (count != arr->count) {
		rc = fail(&cx, QA_ERR_INVALID,
			  "count %zu does not match the shape (%zu elements)",
			  arr->count, count);
		goto out;
	}
	if (count > SIZE_MAX / size) {
		rc = fail(&cx, QA_ERR_INVALID, "array too large");
		goto out;
	}
	if (count > 0 && !arr->data) {
		rc = fail(&cx, QA_ERR_INVALID, "no data");
		goto out;
	}
	plen = make_preamble(arr, pre, sizeof(pre));
	if (plen == 0) {
		rc = fail(&cx, QA_ERR_INVALID, "header does not fit");
		goto out;
	}

	/* a temporary file renamed over path (which must be a plain file if
	 * it exists: never a device such as /dev/null, a FIFO, a directory
	 * or a symbolic link) */
	{
		char msg[256];
		npy_emit_ctx e = { pre, plen, arr, size };
		rc = qa_write_atomic(path, npy_emit, &e, msg, sizeof msg);
		if (rc)
			rc = fail(&cx, rc, "%s", msg);
	}
out:
	return rc;
}

void qa_array_free(qa_array *arr)
{
	if (!arr)
		return;
	free(arr->data);
	memset(arr, 0, sizeof(*arr));
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_model.c - float and quantized models: allocation, validation, float
 * inference, and their files (docs/models.md):
 *
 *   float model directory   DIR/manifest.txt + float32 .npy files
 *   quantized model         one .qam file: header, layer table, layer
 *                           data, CRC-32; little-endian
 *
 * Readers trust nothing they read: every count is checked against limits
 * and against the bytes actually present before it is used, and sizes are
 * computed in 64 bits with explicit bounds. Writers go through a temporary
 * file and a rename, so a failure never leaves half a file behind.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* fileno */
#endif

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn_internal.h"
#include "fileio.h"
#include "qarray_nn.h"

#define MANIFEST_NAME "manifest.txt"
#define MANIFEST_MAGIC "qarray-model"
#define MANIFEST_VERSION 1
#define MANIFEST_MAX_BYTES 65536
#define MANIFEST_LINE_MAX 1024
#define FILE_NAME_MAX 255

#define QAM_MAGIC "QAMF"
#define QAM_VERSION 1
#define QAM_HEADER_BYTES 16
#define QAM_LAYER_BYTES 16
#define QAM_CRC_BYTES 4
#define QAM_MAX_BYTES (1u << 30)           /* largest .qam accepted */
#define QAM_FLAG_PER_CHANNEL 0x01u
#define LAYER_MAX_WEIGHTS ((size_t)1 << 30) /* k * n of one layer */

/* ---- shared helpers ------------------------------------------------------- */

int qa_nni_fail(char *errbuf, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!errbuf || errlen == 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

void qa_nni_prefix(char *errbuf, size_t errlen, const char *prefix)
{
	size_t plen, mlen;

	if (!errbuf || errlen == 0 || !prefix)
		return;
	plen = strlen(prefix) + 2;
	mlen = strlen(errbuf);
	if (plen + mlen + 1 > errlen)
		return;
	memmove(errbuf + plen, errbuf, mlen + 1);
	memcpy(errbuf, prefix, plen - 2);
	errbuf[plen - 2] = ':';
	errbuf[plen - 1] = ' ';
}

uint32_t qa_nni_crc32(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t crc = 0xFFFFFFFFu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return crc ^ 0xFFFFFFFFu;
}

/* the bytes of qa_nni_write_atomic, for qa_write_atomic */
typedef struct buf_emit_ctx {
	const void *buf;
	size_t len;
} buf_emit_ctx;

static int buf_emit(FILE *f, void *ctx)
{
	const buf_emit_ctx *e = ctx;
	return (e->len && fwrite(e->buf, 1, e->len, f) != e->len) ? -1 : 0;
}

int qa_nni_write_atomic(const char *path, const void *buf, size_t len,
			char *errbuf, size_t errlen)
{
	if (!path || !*path || path[strlen(path) - 1] == '/')
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "not a file name");
	buf_emit_ctx e = { buf, len };
	return qa_write_atomic(path, buf_emit, &e, errbuf, errlen);
}

/* Read a whole regular file of at most max bytes into a new buffer. */
static int read_whole(const char *path, size_t max, unsigned char **data,
		      size_t *len, char *errbuf, size_t errlen)
{
	struct stat sb;
	unsigned char *buf = NULL;
	FILE *f = NULL;
	size_t got;
	int rc;

	*data = NULL;
	*len = 0;
	/* opening a FIFO for reading would wait for a writer: look first */
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		rc = qa_nni_fail(errbuf, errlen, QA_ERR_IO,
				 "not a regular file");
		goto out;
	}
	f = fopen(path, "rb");
	if (!f) {
		rc = qa_nni_fail(errbuf, errlen, QA_ERR_IO, "cannot open: %s",
				 strerror(errno));
		goto out;
	}
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = qa_nni_fail(errbuf, errlen, QA_ERR_IO,
				 "not a regular file");
		goto out;
	}
	if (sb.st_size < 0 || (uint64_t)sb.st_size > max) {
		rc = qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				 "%lld bytes, more than the %zu accepted",
				 (long long)sb.st_size, max);
		goto out;
	}
	/* one spare byte: a file that grew since fstat is noticed */
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		rc = qa_nni_fail(errbuf, errlen, QA_ERR_NOMEM, "out of memory");
		goto out;
	}
	got = fread(buf, 1, (size_t)sb.st_size + 1, f);
	if (ferror(f) || got != (size_t)sb.st_size) {
		rc = qa_nni_fail(errbuf, errlen, QA_ERR_IO,
				 "read failed or the file changed while read");
		goto out;
	}
	*data = buf;
	*len = got;
	buf = NULL;
	rc = QA_OK;
out:
	free(buf);
	if (f)
		fclose(f);
	return rc;
}

static int check_dims(unsigned nlayers, const size_t *dims, char *errbuf,
		      size_t errlen)
{
	if (nlayers == 0 || nlayers > QA_NN_MAX_LAYERS)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "%u layers; a model has 1..%d", nlayers,
				   QA_NN_MAX_LAYERS);
	if (!dims)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "no layer widths");
	for (unsigned i = 0; i <= nlayers; i++)
		if (dims[i] == 0 || dims[i] > QA_NN_MAX_DIM)
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "width %zu (index %u) is outside "
					   "1..%d", dims[i], i, QA_NN_MAX_DIM);
	for (unsigned i = 0; i < nlayers; i++)
		if (dims[i] * dims[i + 1] > LAYER_MAX_WEIGHTS)
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "layer %u has %zu x %zu weights, "
					   "more than %zu", i, dims[i],
					   dims[i + 1], LAYER_MAX_WEIGHTS);
	return QA_OK;
}

/* ---- float models ---------------------------------------------------------- */

int qa_fmodel_init(qa_fmodel *m, unsigned nlayers, const size_t *dims)
{
	int rc;

	if (!m)
		return QA_ERR_INVALID;
	memset(m, 0, sizeof(*m));
	rc = check_dims(nlayers, dims, NULL, 0);
	if (rc != QA_OK)
		return rc;
	m->layers = calloc(nlayers, sizeof(*m->layers));
	if (!m->layers)
		return QA_ERR_NOMEM;
	m->nlayers = nlayers;
	for (unsigned l = 0; l < nlayers; l++) {
		qa_flayer *L = &m->layers[l];

		L->in = dims[l];
		L->out = dims[l + 1];
		L->relu = l + 1 < nlayers;
		L->w = calloc(L->in * L->out, sizeof(float));
		L->b = calloc(L->out, sizeof(float));
		if (!L->w || !L->b) {
			qa_fmodel_free(m);
			return QA_ERR_NOMEM;
		}
	}
	return QA_OK;
}

void qa_fmodel_free(qa_fmodel *m)
{
	if (!m)
		return;
	for (unsigned l = 0; m->layers && l < m->nlayers; l++) {
		free(m->layers[l].w);
		free(m->layers[l].b);
	}
	free(m->layers);
	memset(m, 0, sizeof(*m));
}

/* index of the first non-finite value, or count */
static size_t first_nonfinite(const float *v, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (!isfinite(v[i]))
			return i;
	return count;
}

int qa_fmodel_validate(const qa_fmodel *m, char *errbuf, size_t errlen)
{
	if (!m || !m->layers)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID, "no model");
	if (m->nlayers == 0 || m->nlayers > QA_NN_MAX_LAYERS)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "%u layers; a model has 1..%d", m->nlayers,
				   QA_NN_MAX_LAYERS);
	for (unsigned l = 0; l < m->nlayers; l++) {
		const qa_flayer *L = &m->layers[l];
		size_t bad;

		if (L->in == 0 || L->in > QA_NN_MAX_DIM || L->out == 0 ||
		    L->out > QA_NN_MAX_DIM ||
		    L->in * L->out > LAYER_MAX_WEIGHTS)
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "layer %u: shape %zu x %zu outside "
					   "the limits", l, L->in, L->out);
		if (l > 0 && L->in != m->layers[l - 1].out)
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "layer %u has %zu inputs but layer "
					   "%u has %zu outputs", l, L->in,
					   l - 1, m->layers[l - 1].out);
		if (!L->w || !L->b)
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "layer %u: no weights or bias", l);
		if (L->relu != 0 && L->relu != 1)
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "layer %u: relu flag %d", l,
					   L->relu);
		bad = first_nonfinite(L->w, L->in * L->out);
		if (bad < L->in * L->out)
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "layer %u: weight [%zu, %zu] is not "
					   "finite", l, bad / L->out,
					   bad % L->out);
		bad = first_nonfinite(L->b, L->out);
		if (bad < L->out)
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "layer %u: bias [%zu] is not finite",
					   l, bad);
	}
	return QA_OK;
}

size_t qa_fmodel_param_bytes(const qa_fmodel *m)
{
	size_t total = 0;

	if (!m || !m->layers)
		return 0;
	for (unsigned l = 0; l < m->nlayers; l++)
		total += (m->layers[l].in + 1) * m->layers[l].out *
			 sizeof(float);
	return total;
}

/* One dense layer on rows inputs, accumulating in double. */
static void dense_rows(const qa_flayer *L, size_t rows, const float *x,
		       float *y, double *acc)
{
	for (size_t r = 0; r < rows; r++) {
		const float *xr = x + r * L->in;

		for (size_t j = 0; j < L->out; j++)
			acc[j] = L->b[j];
		for (size_t i = 0; i < L->in; i++) {
			const float *wi = L->w + i * L->out;
			double xi = xr[i];

			if (xi == 0.0)
				continue;
			for (size_t j = 0; j < L->out; j++)
				acc[j] += xi * wi[j];
		}
		for (size_t j = 0; j < L->out; j++) {
			double v = acc[j];

			if (L->relu && v < 0.0)
				v = 0.0;
			y[r * L->out + j] = (float)v;
		}
	}
}

int qa_nni_fforward_layers(const qa_fmodel *m, size_t rows, const float *x,
			   float *const *outs)
{
	size_t widest = 0;
	double *acc;

	for (unsigned l = 0; l < m->nlayers; l++)
		if (m->layers[l].out > widest)
			widest = m->layers[l].out;
	acc = malloc(widest * sizeof(double));
	if (!acc)
		return QA_ERR_NOMEM;
	for (unsigned l = 0; l < m->nlayers; l++) {
		dense_rows(&m->layers[l], rows, x, outs[l], acc);
		x = outs[l];
	}
	free(acc);
	return QA_OK;
}

int qa_fmodel_forward(const qa_fmodel *m, size_t rows, const float *x,
		      float *y)
{
	float *bufs[2] = { NULL, NULL };
	double *acc = NULL;
	size_t widest = 0;
	int rc = qa_fmodel_validate(m, NULL, 0);

	if (rc != QA_OK)
		return rc;
	if (!x || !y || rows == 0)
		return QA_ERR_INVALID;
	for (unsigned l = 0; l < m->nlayers; l++) {
		if (m->layers[l].out > widest)
			widest = m->layers[l].out;
		if (m->layers[l].out > SIZE_MAX / sizeof(float) / rows ||
		    m->layers[l].in > SIZE_MAX / sizeof(float) / rows)
			return QA_ERR_INVALID;
	}
	acc = malloc(widest * sizeof(double));
	for (int i = 0; i < 2 && m->nlayers > 1; i++) {
		bufs[i] = malloc(rows * widest * sizeof(float));
		if (!bufs[i])
			break;
	}
	if (!acc || (m->nlayers > 1 && (!bufs[0] || !bufs[1]))) {
		rc = QA_ERR_NOMEM;
		goto out;
	}
	for (unsigned l = 0; l < m->nlayers; l++) {
		float *o = l + 1 == m->nlayers ? y : bufs[l & 1];

		dense_rows(&m->layers[l], rows, x, o, acc);
		x = o;
	}
	rc = QA_OK;
out:
	free(acc);
	free(bufs[0]);
	free(bufs[1]);
	return rc;
}

/* ---- the float model directory ---------------------------------------------- */

/* A file name in a manifest: [A-Za-z0-9._-]{1,255}, not starting with '.'. */
static int good_file_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > FILE_NAME_MAX || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

static char *join_path(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *p = malloc(dl + nl + 2);

	if (!p)
		return NULL;
	memcpy(p, dir, dl);
	if (dl == 0 || dir[dl - 1] != '/')
		p[dl++] = '/';
	memcpy(p + dl, name, nl + 1);
	return p;
}

/* What one "dense" line says. */
typedef struct manifest_layer {
	unsigned line;
	char w[FILE_NAME_MAX + 1];
	char b[FILE_NAME_MAX + 1];
	int transposed;  /* wt= rather than w= */
	int relu;
} manifest_layer;

/* Split the next whitespace-separated token off *p (modifies the line). */
static char *next_token(char **p)
{
	char *s = *p, *t;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0') {
		*p = s;
		return NULL;
	}
	t = s;
	while (*s && *s != ' ' && *s != '\t')
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return t;
}

static int parse_dense(char *rest, unsigned line, manifest_layer *ml,
		       char *errbuf, size_t errlen)
{
	char *tok;
	int have_w = 0, have_b = 0;

	memset(ml, 0, sizeof(*ml));
	ml->line = line;
	while ((tok = next_token(&rest)) != NULL) {
		char *dst = NULL;

		if (strcmp(tok, "relu") == 0) {
			if (ml->relu)
				goto dup;
			ml->relu = 1;
			continue;
		}
		if (strncmp(tok, "w=", 2) == 0 || strncmp(tok, "wt=", 3) == 0) {
			if (have_w)
				goto dup;
			have_w = 1;
			ml->transposed = tok[1] == 't';
			tok += ml->transposed ? 3 : 2;
			dst = ml->w;
		} else if (strncmp(tok, "b=", 2) == 0) {
			if (have_b)
				goto dup;
			have_b = 1;
			tok += 2;
			dst = ml->b;
		} else {
			return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					   "line %u: unknown attribute '%s' "
					   "(expected w=, wt=, b= or relu)",
					   line, tok);
		}
		if (!good_file_name(tok))
			return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					   "line %u: bad file name '%s' (a "
					   "name in the model directory: "
					   "letters, digits, '.', '_', '-', "
					   "not starting with '.')", line, tok);
		strcpy(dst, tok);
	}
	if (!have_w)
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "line %u: dense layer without w= or wt=",
				   line);
	return QA_OK;
dup:
	return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
			   "line %u: attribute given twice", line);
}

/* Parse the manifest text into layer descriptions. */
static int parse_manifest(char *text, size_t len, manifest_layer *layers,
			  unsigned *nlayers, char *errbuf, size_t errlen)
{
	unsigned line = 0, n = 0;
	int have_magic = 0;
	char *p = text, *end = text + len;

	if (memchr(text, '\0', len))
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "a NUL byte: not a text file");
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *eol = nl ? nl : end;
		char *hash, *rest, *tok;
		size_t ll = (size_t)(eol - p);

		line++;
		if (ll > MANIFEST_LINE_MAX)
			return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					   "line %u is longer than %d bytes",
					   line, MANIFEST_LINE_MAX);
		*eol = '\0'; /* at end: the spare byte read_whole allocates */
		if (ll && p[ll - 1] == '\r')
			p[ll - 1] = '\0';
		rest = p;
		p = eol + 1;
		hash = strchr(rest, '#');
		if (hash)
			*hash = '\0';
		tok = next_token(&rest);
		if (!tok)
			continue;
		if (!have_magic) {
			char *ver = next_token(&rest);
			char *endp;
			long v;

			if (strcmp(tok, MANIFEST_MAGIC) != 0 || !ver)
				return qa_nni_fail(errbuf, errlen,
						   QA_ERR_FORMAT,
						   "line %u: expected '%s %d' "
						   "first", line,
						   MANIFEST_MAGIC,
						   MANIFEST_VERSION);
			errno = 0;
			v = strtol(ver, &endp, 10);
			if (*endp || errno || v != MANIFEST_VERSION ||
			    next_token(&rest))
				return qa_nni_fail(errbuf, errlen,
						   QA_ERR_FORMAT,
						   "line %u: manifest version "
						   "'%s' is not supported "
						   "(this qarray reads %d)",
						   line, ver, MANIFEST_VERSION);
			have_magic = 1;
			continue;
		}
		if (strcmp(tok, "dense") != 0)
			return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					   "line %u: unknown directive '%s' "
					   "(expected dense)", line, tok);
		if (n == QA_NN_MAX_LAYERS)
			return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					   "line %u: more than %d layers", line,
					   QA_NN_MAX_LAYERS);
		if (parse_dense(rest, line, &layers[n], errbuf, errlen))
			return QA_ERR_FORMAT;
		n++;
	}
	if (!have_magic)
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "empty; expected '%s %d' and dense lines",
				   MANIFEST_MAGIC, MANIFEST_VERSION);
	if (n == 0)
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "no dense layer");
	*nlayers = n;
	return QA_OK;
}

/* Read one float32 .npy of the model directory with the given rank. */
static int read_param(const char *dir, const char *name, unsigned ndim,
		      qa_array *a, char *errbuf, size_t errlen)
{
	char msg[256] = "";
	char *path = join_path(dir, name);
	struct stat sb;
	int rc;

	memset(a, 0, sizeof(*a));
	if (!path)
		return qa_nni_fail(errbuf, errlen, QA_ERR_NOMEM,
				   "out of memory");
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		rc = qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				 "%s: not a regular file", path);
		goto out;
	}
	rc = qa_npy_read(path, a, msg, sizeof(msg));
	if (rc != QA_OK) {
		qa_nni_fail(errbuf, errlen, rc == QA_ERR_NOMEM ? rc :
			    QA_ERR_FORMAT, "%s", msg[0] ? msg : path);
		rc = rc == QA_ERR_NOMEM ? rc : QA_ERR_FORMAT;
		goto out;
	}
	if (a->dtype != QA_DT_FLOAT32) {
		rc = qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				 "%s: dtype %s, expected float32 (save with "
				 ".astype(numpy.float32))", path,
				 qa_dtype_name(a->dtype));
		goto out;
	}
	if (a->ndim != ndim) {
		rc = qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				 "%s: %u dimensions, expected %u", path,
				 a->ndim, ndim);
		goto out;
	}
	for (unsigned i = 0; i < ndim; i++) {
		if (a->shape[i] == 0 || a->shape[i] > QA_NN_MAX_DIM) {
			rc = qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					 "%s: dimension %zu outside 1..%d",
					 path, a->shape[i], QA_NN_MAX_DIM);
			goto out;
		}
	}
	rc = QA_OK;
out:
	if (rc != QA_OK)
		qa_array_free(a);
	free(path);
	return rc;
}

int qa_fmodel_load(qa_fmodel *m, const char *dir, char *errbuf,
		   size_t errlen)
{
	manifest_layer *ml = NULL;
	unsigned char *text = NULL;
	char *mpath = NULL;
	qa_array wa, ba;
	size_t dims[QA_NN_MAX_LAYERS + 1];
	size_t tlen;
	unsigned n = 0;
	struct stat sb;
	int rc;

	memset(&wa, 0, sizeof(wa));
	memset(&ba, 0, sizeof(ba));
	memset(dims, 0, sizeof(dims));
	if (!m || !dir || !*dir)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "no model directory given");
	memset(m, 0, sizeof(*m));
	if (stat(dir, &sb) != 0) {
		return qa_nni_fail(errbuf, errlen, QA_ERR_IO, "%s: %s", dir,
				   strerror(errno));
	}
	if (!S_ISDIR(sb.st_mode))
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "%s: not a directory (a float model is a "
				   "directory with a %s)", dir, MANIFEST_NAME);
	mpath = join_path(dir, MANIFEST_NAME);
	ml = calloc(QA_NN_MAX_LAYERS, sizeof(*ml));
	if (!mpath || !ml) {
		rc = qa_nni_fail(errbuf, errlen, QA_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = read_whole(mpath, MANIFEST_MAX_BYTES, &text, &tlen, errbuf,
			errlen);
	if (rc == QA_OK)
		rc = parse_manifest((char *)text, tlen, ml, &n, errbuf, errlen);
	if (rc != QA_OK) {
		qa_nni_prefix(errbuf, errlen, mpath);
		rc = rc == QA_ERR_NOMEM ? rc : QA_ERR_FORMAT;
		goto out;
	}

	/* First pass: every weight file's shape, to size the model. */
	for (unsigned l = 0; l < n; l++) {
		rc = read_param(dir, ml[l].w, 2, &wa, errbuf, errlen);
		if (rc != QA_OK)
			goto out;
		size_t in = wa.shape[ml[l].transposed ? 1 : 0];
		size_t out = wa.shape[ml[l].transposed ? 0 : 1];

		qa_array_free(&wa);
		if (l == 0) {
			dims[0] = in;
		} else if (in != dims[l]) {
			rc = qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					 "%s line %u: layer %u has %zu inputs "
					 "(%s), but layer %u has %zu outputs",
					 mpath, ml[l].line, l, in, ml[l].w,
					 l - 1, dims[l]);
			goto out;
		}
		dims[l + 1] = out;
	}
	rc = qa_fmodel_init(m, n, dims);
	if (rc != QA_OK) {
		qa_nni_fail(errbuf, errlen, rc, "%s: %s", mpath,
			    qa_strerror(rc));
		goto out;
	}

	/* Second pass: the values. */
	for (unsigned l = 0; l < n; l++) {
		qa_flayer *L = &m->layers[l];
		const float *src;
		size_t bad;

		rc = read_param(dir, ml[l].w, 2, &wa, errbuf, errlen);
		if (rc != QA_OK)
			goto out;
		if (wa.shape[ml[l].transposed ? 1 : 0] != L->in ||
		    wa.shape[ml[l].transposed ? 0 : 1] != L->out) {
			rc = qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					 "%s: changed while it was read",
					 ml[l].w);
			goto out;
		}
		src = wa.data;
		bad = first_nonfinite(src, wa.count);
		if (bad < wa.count) {
			rc = qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					 "%s: value %zu is not finite",
					 ml[l].w, bad);
			goto out;
		}
		if (ml[l].transposed) {
			for (size_t o = 0; o < L->out; o++)
				for (size_t i = 0; i < L->in; i++)
					L->w[i * L->out + o] =
						src[o * L->in + i];
		} else {
			memcpy(L->w, src, L->in * L->out * sizeof(float));
		}
		qa_array_free(&wa);
		L->relu = ml[l].relu;
		if (!ml[l].b[0]) {
			memset(L->b, 0, L->out * sizeof(float));
			continue;
		}
		rc = read_param(dir, ml[l].b, 1, &ba, errbuf, errlen);
		if (rc != QA_OK)
			goto out;
		if (ba.shape[0] != L->out) {
			rc = qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					 "%s line %u: bias %s has %zu values, "
					 "layer %u has %zu outputs", mpath,
					 ml[l].line, ml[l].b, ba.shape[0], l,
					 L->out);
			goto out;
		}
		bad = first_nonfinite(ba.data, ba.count);
		if (bad < ba.count) {
			rc = qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					 "%s: value %zu is not finite",
					 ml[l].b, bad);
			goto out;
		}
		memcpy(L->b, ba.data, L->out * sizeof(float));
		qa_array_free(&ba);
	}
	rc = QA_OK;
out:
	if (rc != QA_OK)
		qa_fmodel_free(m);
	qa_array_free(&wa);
	qa_array_free(&ba);
	free(text);
	free(mpath);
	free(ml);
	return rc;
}

/* Write one float32 parameter file (rank 1 or 2). */
static int write_param(const char *dir, const char *name, unsigned ndim,
		       size_t d0, size_t d1, float *data, char *errbuf,
		       size_t errlen)
{
	char msg[256] = "";
	char *path = join_path(dir, name);
	qa_array a;
	int rc;

	if (!path)
		return qa_nni_fail(errbuf, errlen, QA_ERR_NOMEM,
				   "out of memory");
	memset(&a, 0, sizeof(a));
	a.dtype = QA_DT_FLOAT32;
	a.ndim = ndim;
	a.shape[0] = d0;
	a.shape[1] = ndim > 1 ? d1 : 0;
	a.count = ndim > 1 ? d0 * d1 : d0;
	a.data = data;
	rc = qa_npy_write(path, &a, msg, sizeof(msg));
	if (rc != QA_OK)
		qa_nni_fail(errbuf, errlen, rc, "%s", msg[0] ? msg : path);
	free(path);
	return rc;
}

int qa_fmodel_save(const qa_fmodel *m, const char *dir, const char *comment,
		   char *errbuf, size_t errlen)
{
	char *text = NULL, *mpath = NULL;
	size_t cap, len = 0;
	struct stat sb;
	int made_dir = 0, rc, wrote = 0;
	char name[32];

	rc = qa_fmodel_validate(m, errbuf, errlen);
	if (rc != QA_OK)
		return rc;
	if (!dir || !*dir)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "no model directory given");
	if (stat(dir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode))
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "%s: exists and is not a directory",
					   dir);
	} else if (errno == ENOENT) {
		if (mkdir(dir, 0755) != 0)
			return qa_nni_fail(errbuf, errlen, QA_ERR_IO,
					   "cannot create %s: %s", dir,
					   strerror(errno));
		made_dir = 1;
	} else {
		return qa_nni_fail(errbuf, errlen, QA_ERR_IO, "%s: %s", dir,
				   strerror(errno));
	}

	/* the manifest text: magic, comments, one line per layer */
	cap = 256 + (comment ? strlen(comment) : 0) + 80 * (size_t)m->nlayers;
	text = malloc(cap);
	mpath = join_path(dir, MANIFEST_NAME);
	if (!text || !mpath) {
		rc = qa_nni_fail(errbuf, errlen, QA_ERR_NOMEM, "out of memory");
		goto out;
	}
	len += (size_t)snprintf(text + len, cap - len, "%s %d\n",
				MANIFEST_MAGIC, MANIFEST_VERSION);
	if (comment && *comment) {
		len += (size_t)snprintf(text + len, cap - len, "# ");
		for (const char *c = comment; *c; c++)
			text[len++] = (*c == '\n' || *c == '\r') ? ' ' : *c;
		text[len++] = '\n';
	}
	len += (size_t)snprintf(text + len, cap - len,
				"# %zu inputs, %u dense layers, weights "
				"(in, out) float32\n", m->layers[0].in,
				m->nlayers);
	for (unsigned l = 0; l < m->nlayers; l++) {
		const qa_flayer *L = &m->layers[l];

		snprintf(name, sizeof(name), "l%u_w.npy", l);
		rc = write_param(dir, name, 2, L->in, L->out, L->w, errbuf,
				 errlen);
		if (rc != QA_OK)
			goto out;
		wrote = (int)l * 2 + 1;
		snprintf(name, sizeof(name), "l%u_b.npy", l);
		rc = write_param(dir, name, 1, L->out, 0, L->b, errbuf,
				 errlen);
		if (rc != QA_OK)
			goto out;
		wrote = (int)l * 2 + 2;
		len += (size_t)snprintf(text + len, cap - len,
					"dense w=l%u_w.npy b=l%u_b.npy%s\n", l,
					l, L->relu ? " relu" : "");
	}
	rc = qa_nni_write_atomic(mpath, text, len, errbuf, errlen);
	if (rc != QA_OK) {
		qa_nni_prefix(errbuf, errlen, mpath);
		goto out;
	}
	rc = QA_OK;
out:
	/* a directory this call created is removed again on failure */
	if (rc != QA_OK && made_dir) {
		for (int i = 0; i < wrote; i++) {
			char *p;

			snprintf(name, sizeof(name), "l%d_%c.npy", i / 2,
				 i % 2 ? 'b' : 'w');
			p = join_path(dir, name);
			if (p)
				unlink(p);
			free(p);
		}
		rmdir(dir);
	}
	free(text);
	free(mpath);
	return rc;
}

/* ---- quantized models ---------------------------------------------------------- */

const char *qa_nn_method_name(qa_nn_method method)
{
	switch (method) {
	case QA_NN_MAX:
		return "max";
	case QA_NN_PERCENTILE:
		return "percentile";
	case QA_NN_MSE:
		return "mse";
	case QA_NN_FLOOR:
		return "floor";
	default:
		return NULL;
	}
}

int qa_nn_method_parse(const char *name, qa_nn_method *method)
{
	for (int i = QA_NN_MAX; i <= QA_NN_FLOOR; i++) {
		if (name && method &&
		    strcmp(name, qa_nn_method_name((qa_nn_method)i)) == 0) {
			*method = (qa_nn_method)i;
			return QA_OK;
		}
	}
	return QA_ERR_INVALID;
}

int qa_qmodel_init(qa_qmodel *m, unsigned nlayers, const size_t *dims)
{
	int rc;

	if (!m)
		return QA_ERR_INVALID;
	memset(m, 0, sizeof(*m));
	rc = check_dims(nlayers, dims, NULL, 0);
	if (rc != QA_OK)
		return rc;
	m->layers = calloc(nlayers, sizeof(*m->layers));
	if (!m->layers)
		return QA_ERR_NOMEM;
	m->nlayers = nlayers;
	m->round = QA_ROUND_HALF_UP;
	m->in_round = QA_ROUND_HALF_AWAY;
	m->method = QA_NN_MAX;
	m->weight_bits = 8;
	for (unsigned l = 0; l < nlayers; l++) {
		qa_qlayer *L = &m->layers[l];

		L->k = dims[l];
		L->n = dims[l + 1];
		L->lo = l + 1 < nlayers ? 0 : -128;
		L->hi = 127;
		L->w = calloc(L->k * L->n, 1);
		L->bias = calloc(L->n, sizeof(int32_t));
		L->shift = calloc(L->n, 1);
		L->kw = calloc(L->n, sizeof(int));
		if (!L->w || !L->bias || !L->shift || !L->kw) {
			qa_qmodel_free(m);
			return QA_ERR_NOMEM;
		}
	}
	return QA_OK;
}

void qa_qmodel_free(qa_qmodel *m)
{
	if (!m)
		return;
	for (unsigned l = 0; m->layers && l < m->nlayers; l++) {
		free(m->layers[l].w);
		free(m->layers[l].bias);
		free(m->layers[l].shift);
		free(m->layers[l].kw);
	}
	free(m->layers);
	memset(m, 0, sizeof(*m));
}

static int exp_ok(int k)
{
	return k >= QA_NN_EXP_MIN && k <= QA_NN_EXP_MAX;
}

int qa_qmodel_validate(const qa_qmodel *m, char *errbuf, size_t errlen)
{
	int wlo, whi, k_in;

	if (!m || !m->layers)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID, "no model");
	if (m->nlayers == 0 || m->nlayers > QA_NN_MAX_LAYERS)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "%u layers; a model has 1..%d", m->nlayers,
				   QA_NN_MAX_LAYERS);
	if (!qa_round_name(m->round) || !qa_round_name(m->in_round))
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "unknown rounding mode");
	if (!qa_nn_method_name(m->method))
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "unknown calibration method %d",
				   (int)m->method);
	if (m->per_channel != 0 && m->per_channel != 1)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "per_channel flag %d", m->per_channel);
	if (m->weight_bits < 2 || m->weight_bits > 8)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "weight_bits %u outside 2..8",
				   m->weight_bits);
	if (!exp_ok(m->k_in))
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "input exponent %d outside %d..%d", m->k_in,
				   QA_NN_EXP_MIN, QA_NN_EXP_MAX);
	whi = (1 << (m->weight_bits - 1)) - 1;
	wlo = -whi - 1;
	k_in = m->k_in;
	for (unsigned l = 0; l < m->nlayers; l++) {
		const qa_qlayer *L = &m->layers[l];

		if (L->k == 0 || L->k > QA_NN_MAX_DIM || L->n == 0 ||
		    L->n > QA_NN_MAX_DIM || L->k * L->n > LAYER_MAX_WEIGHTS)
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "layer %u: shape %zu x %zu outside "
					   "the limits", l, L->k, L->n);
		if (l > 0 && L->k != m->layers[l - 1].n)
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "layer %u has %zu inputs but layer "
					   "%u has %zu outputs", l, L->k, l - 1,
					   m->layers[l - 1].n);
		if (!L->w || !L->bias || !L->shift || !L->kw)
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "layer %u: missing arrays", l);
		if (L->k_in != k_in)
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "layer %u: input exponent %d, but "
					   "its input has exponent %d", l,
					   L->k_in, k_in);
		if (!exp_ok(L->k_out))
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "layer %u: output exponent %d "
					   "outside %d..%d", l, L->k_out,
					   QA_NN_EXP_MIN, QA_NN_EXP_MAX);
		if (L->lo < -128 || L->hi > 127 || L->lo > L->hi)
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "layer %u: clamp %d..%d is not "
					   "within -128..127", l, L->lo, L->hi);
		for (size_t j = 0; j < L->n; j++) {
			long s = (long)L->k_out - L->k_in - L->kw[j];

			if (!exp_ok(L->kw[j]))
				return qa_nni_fail(errbuf, errlen,
						   QA_ERR_INVALID,
						   "layer %u column %zu: weight "
						   "exponent %d outside %d..%d",
						   l, j, L->kw[j],
						   QA_NN_EXP_MIN,
						   QA_NN_EXP_MAX);
			if (L->shift[j] > QA_SHIFT_MAX || s != L->shift[j])
				return qa_nni_fail(errbuf, errlen,
						   QA_ERR_INVALID,
						   "layer %u column %zu: shift "
						   "%u, but k_out - k_in - k_w "
						   "= %d - %d - %d = %ld", l, j,
						   L->shift[j], L->k_out,
						   L->k_in, L->kw[j], s);
		}
		for (size_t i = 0; i < L->k * L->n; i++)
			if (L->w[i] < wlo || L->w[i] > whi)
				return qa_nni_fail(errbuf, errlen,
						   QA_ERR_INVALID,
						   "layer %u: weight %d at "
						   "[%zu, %zu] does not fit %u "
						   "bits", l, L->w[i],
						   i / L->n, i % L->n,
						   m->weight_bits);
		k_in = L->k_out;
	}
	return QA_OK;
}

/* ---- .qam encoding ----------------------------------------------------------------- */

/* Bytes per bias in the file: 0 (all zero), 1, 2 or 4. */
static unsigned bias_width(const qa_qlayer *L)
{
	unsigned w = 0;

	for (size_t j = 0; j < L->n; j++) {
		int32_t b = L->bias[j];

		if (b == 0)
			continue;
		if (b >= INT8_MIN && b <= INT8_MAX) {
			if (w < 1)
				w = 1;
		} else if (b >= INT16_MIN && b <= INT16_MAX) {
			if (w < 2)
				w = 2;
		} else {
			return 4;
		}
	}
	return w;
}

/* How a layer's shifts are stored. */
enum {
	SHIFT_ONE = 0,     /* one byte for every column */
	SHIFT_BYTES = 1,   /* n bytes */
	SHIFT_NIBBLES = 2  /* a base byte + n 4-bit offsets, low nibble first */
};

static uint64_t shift_bytes(uint64_t n, unsigned mode)
{
	return mode == SHIFT_ONE ? 1 : mode == SHIFT_BYTES ? n : 1 + (n + 1) / 2;
}

/* The smallest way to store a layer's shifts. */
static unsigned shift_mode(const qa_qlayer *L)
{
	unsigned lo = L->shift[0], hi = L->shift[0];

	for (size_t j = 1; j < L->n; j++) {
		if (L->shift[j] < lo)
			lo = L->shift[j];
		if (L->shift[j] > hi)
			hi = L->shift[j];
	}
	if (lo == hi)
		return SHIFT_ONE;
	if (hi - lo <= 15 &&
	    shift_bytes(L->n, SHIFT_NIBBLES) < shift_bytes(L->n, SHIFT_BYTES))
		return SHIFT_NIBBLES;
	return SHIFT_BYTES;
}

static uint64_t layer_data_bytes(uint64_t k, uint64_t n, unsigned bw,
				 unsigned smode)
{
	return k * n + n * bw + shift_bytes(n, smode);
}

/* the .qam size of a valid model, 0 above QAM_MAX_BYTES */
static size_t encoded_size(const qa_qmodel *m)
{
	uint64_t total = QAM_HEADER_BYTES + QAM_CRC_BYTES +
			 (uint64_t)QAM_LAYER_BYTES * m->nlayers;

	for (unsigned l = 0; l < m->nlayers; l++) {
		const qa_qlayer *L = &m->layers[l];

		total += layer_data_bytes(L->k, L->n, bias_width(L),
					  shift_mode(L));
	}
	return total > QAM_MAX_BYTES ? 0 : (size_t)total;
}

size_t qa_qmodel_file_bytes(const qa_qmodel *m)
{
	if (qa_qmodel_validate(m, NULL, 0) != QA_OK)
		return 0;
	return encoded_size(m);
}

static void put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)((v >> (8 * i)) & 0xff);
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* two's complement byte of a small signed value */
static unsigned char s8_byte(int v)
{
	return (unsigned char)((unsigned)v & 0xffu);
}

static int byte_s8(unsigned char b)
{
	return b < 128 ? (int)b : (int)b - 256;
}

int qa_qmodel_encode(const qa_qmodel *m, void *buf, size_t cap, size_t *len,
		     char *errbuf, size_t errlen)
{
	unsigned char *p = buf, *q;
	size_t size;
	int rc;

	rc = qa_qmodel_validate(m, errbuf, errlen);
	if (rc != QA_OK)
		return rc;
	size = encoded_size(m);
	if (size == 0)
		return qa_nni_fail(errbuf, errlen, QA_ERR_RANGE,
				   "the model is larger than the %u bytes a "
				   ".qam file may have", QAM_MAX_BYTES);
	if (!buf || cap < size)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "buffer of %zu bytes, the model needs %zu",
				   cap, size);
	memset(p, 0, size);
	memcpy(p, QAM_MAGIC, 4);
	p[4] = QAM_VERSION;
	p[5] = m->per_channel ? QAM_FLAG_PER_CHANNEL : 0;
	p[6] = (unsigned char)m->nlayers;
	p[7] = (unsigned char)m->round;
	p[8] = (unsigned char)m->in_round;
	p[9] = s8_byte(m->k_in);
	p[10] = (unsigned char)m->method;
	p[11] = (unsigned char)m->weight_bits;
	put_u32(p + 12, (uint32_t)size);
	q = p + QAM_HEADER_BYTES + QAM_LAYER_BYTES * (size_t)m->nlayers;
	for (unsigned l = 0; l < m->nlayers; l++) {
		const qa_qlayer *L = &m->layers[l];
		unsigned char *rec = p + QAM_HEADER_BYTES + QAM_LAYER_BYTES * l;
		unsigned bw = bias_width(L), smode = shift_mode(L);

		put_u32(rec, (uint32_t)L->k);
		put_u32(rec + 4, (uint32_t)L->n);
		rec[8] = s8_byte(L->k_out);
		rec[9] = s8_byte(L->lo);
		rec[10] = s8_byte(L->hi);
		rec[11] = (unsigned char)bw;
		rec[12] = (unsigned char)smode;
		/* rec[13..15] reserved, zero */
		for (size_t i = 0; i < L->k * L->n; i++)
			*q++ = s8_byte(L->w[i]);
		for (size_t j = 0; j < L->n && bw; j++) {
			uint32_t v = (uint32_t)L->bias[j];

			for (unsigned b = 0; b < bw; b++)
				*q++ = (unsigned char)((v >> (8 * b)) & 0xff);
		}
		if (smode == SHIFT_ONE) {
			*q++ = L->shift[0];
		} else if (smode == SHIFT_BYTES) {
			for (size_t j = 0; j < L->n; j++)
				*q++ = L->shift[j];
		} else {
			unsigned base = L->shift[0];

			for (size_t j = 1; j < L->n; j++)
				if (L->shift[j] < base)
					base = L->shift[j];
			*q++ = (unsigned char)base;
			for (size_t j = 0; j < L->n; j++)
				q[j / 2] |= (unsigned char)((L->shift[j] - base)
							    << (4 * (j % 2)));
			q += (L->n + 1) / 2;
		}
	}
	put_u32(q, qa_nni_crc32(p, size - QAM_CRC_BYTES));
	*len = size;
	return QA_OK;
}

/* What one layer record says, checked. */
typedef struct qam_layer {
	uint32_t k, n;
	int k_out, lo, hi;
	unsigned bw;
	unsigned smode;
} qam_layer;

int qa_qmodel_decode(qa_qmodel *m, const void *buf, size_t len,
		     char *errbuf, size_t errlen)
{
	const unsigned char *p = buf, *q;
	qam_layer rec[QA_NN_MAX_LAYERS];
	size_t dims[QA_NN_MAX_LAYERS + 1];
	uint32_t fsize, crc_file, crc_calc;
	uint64_t data_bytes = 0, table_end;
	unsigned nl, flags;
	int rc;

	if (!m)
		return QA_ERR_INVALID;
	memset(m, 0, sizeof(*m));
	memset(dims, 0, sizeof(dims));
	if (!p && len)
		return QA_ERR_INVALID;
	if (len < QAM_HEADER_BYTES)
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "%zu bytes: too short for a .qam header "
				   "(%d bytes)", len, QAM_HEADER_BYTES);
	if (memcmp(p, QAM_MAGIC, 4) != 0)
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "not a .qam model (bad magic; expected "
				   "\"%s\")", QAM_MAGIC);
	if (p[4] != QAM_VERSION)
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   ".qam version %u; this qarray reads version "
				   "%d", p[4], QAM_VERSION);
	fsize = get_u32(p + 12);
	if (len < fsize)
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "truncated: %zu bytes, the header says %u",
				   len, fsize);
	if (len > fsize)
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "%zu bytes, the header says %u: trailing "
				   "data", len, fsize);
	if (fsize < QAM_HEADER_BYTES + QAM_LAYER_BYTES + QAM_CRC_BYTES)
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "declared size %u is too small for one "
				   "layer", fsize);
	crc_file = get_u32(p + len - QAM_CRC_BYTES);
	crc_calc = qa_nni_crc32(p, len - QAM_CRC_BYTES);
	if (crc_file != crc_calc)
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "CRC-32 mismatch (stored 0x%08x, computed "
				   "0x%08x): the file is corrupt", crc_file,
				   crc_calc);

	/* the header fields */
	flags = p[5];
	nl = p[6];
	if (flags & ~QAM_FLAG_PER_CHANNEL)
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "unknown flags 0x%02x", flags);
	if (nl == 0 || nl > QA_NN_MAX_LAYERS)
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "%u layers; a model has 1..%d", nl,
				   QA_NN_MAX_LAYERS);
	if (!qa_round_name((qa_round)p[7]) || !qa_round_name((qa_round)p[8]))
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "unknown rounding mode %u or %u", p[7], p[8]);
	if (!qa_nn_method_name((qa_nn_method)p[10]))
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "unknown calibration method %u", p[10]);
	if (p[11] < 2 || p[11] > 8)
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "weight bits %u outside 2..8", p[11]);
	if (!exp_ok(byte_s8(p[9])))
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "input exponent %d outside %d..%d",
				   byte_s8(p[9]), QA_NN_EXP_MIN, QA_NN_EXP_MAX);
	table_end = QAM_HEADER_BYTES + (uint64_t)QAM_LAYER_BYTES * nl;
	if (table_end + QAM_CRC_BYTES > fsize)
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "the table of %u layers does not fit in %u "
				   "bytes", nl, fsize);

	/* the layer table, checked before anything is allocated */
	for (unsigned l = 0; l < nl; l++) {
		const unsigned char *r = p + QAM_HEADER_BYTES +
					 QAM_LAYER_BYTES * (size_t)l;
		qam_layer *R = &rec[l];

		R->k = get_u32(r);
		R->n = get_u32(r + 4);
		R->k_out = byte_s8(r[8]);
		R->lo = byte_s8(r[9]);
		R->hi = byte_s8(r[10]);
		R->bw = r[11];
		R->smode = r[12];
		if (R->k == 0 || R->k > QA_NN_MAX_DIM || R->n == 0 ||
		    R->n > QA_NN_MAX_DIM)
			return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					   "layer %u: shape %u x %u outside "
					   "1..%d", l, R->k, R->n,
					   QA_NN_MAX_DIM);
		if (l > 0 && R->k != rec[l - 1].n)
			return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					   "layer %u has %u inputs but layer %u "
					   "has %u outputs", l, R->k, l - 1,
					   rec[l - 1].n);
		if (!exp_ok(R->k_out))
			return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					   "layer %u: output exponent %d "
					   "outside %d..%d", l, R->k_out,
					   QA_NN_EXP_MIN, QA_NN_EXP_MAX);
		if (R->lo > R->hi)
			return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					   "layer %u: clamp %d..%d is empty", l,
					   R->lo, R->hi);
		if (R->bw != 0 && R->bw != 1 && R->bw != 2 && R->bw != 4)
			return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					   "layer %u: bias width %u (0, 1, 2 "
					   "or 4)", l, R->bw);
		if (r[12] > SHIFT_NIBBLES || r[13] || r[14] || r[15])
			return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					   "layer %u: bad shift mode %u or "
					   "reserved bytes not zero", l, r[12]);
		if ((uint64_t)R->k * R->n > LAYER_MAX_WEIGHTS)
			return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					   "layer %u: %u x %u weights, more "
					   "than %zu", l, R->k, R->n,
					   LAYER_MAX_WEIGHTS);
		data_bytes += layer_data_bytes(R->k, R->n, R->bw, R->smode);
		if (data_bytes > fsize)
			break; /* reported below; keeps the sum bounded */
		dims[l] = R->k;
		dims[l + 1] = R->n;
	}
	if (table_end + data_bytes + QAM_CRC_BYTES != fsize)
		return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
				   "the layer table describes %llu bytes of "
				   "data, the file holds %llu",
				   (unsigned long long)data_bytes,
				   (unsigned long long)(fsize - table_end -
							QAM_CRC_BYTES));

	rc = qa_qmodel_init(m, nl, dims);
	if (rc != QA_OK)
		return qa_nni_fail(errbuf, errlen, rc, "%s", qa_strerror(rc));
	m->per_channel = (flags & QAM_FLAG_PER_CHANNEL) != 0;
	m->round = (qa_round)p[7];
	m->in_round = (qa_round)p[8];
	m->k_in = byte_s8(p[9]);
	m->method = (qa_nn_method)p[10];
	m->weight_bits = p[11];
	q = p + table_end;
	for (unsigned l = 0; l < nl; l++) {
		qa_qlayer *L = &m->layers[l];
		const qam_layer *R = &rec[l];

		L->k_in = l ? m->layers[l - 1].k_out : m->k_in;
		L->k_out = R->k_out;
		L->lo = R->lo;
		L->hi = R->hi;
		for (size_t i = 0; i < L->k * L->n; i++)
			L->w[i] = (int8_t)byte_s8(*q++);
		for (size_t j = 0; j < L->n; j++) {
			int64_t v = 0;

			/* little-endian two's complement of bw bytes */
			for (unsigned b = 0; b < R->bw; b++)
				v |= (int64_t)*q++ << (8 * b);
			if (R->bw && (v >> (8 * R->bw - 1)) & 1)
				v -= (int64_t)1 << (8 * R->bw);
			L->bias[j] = (int32_t)v;
		}
		for (size_t j = 0; j < L->n; j++) {
			unsigned s;

			if (R->smode == SHIFT_ONE)
				s = q[0];
			else if (R->smode == SHIFT_BYTES)
				s = q[j];
			else
				s = q[0] + ((q[1 + j / 2] >> (4 * (j % 2))) & 15u);
			if (s > QA_SHIFT_MAX) {
				qa_qmodel_free(m);
				return qa_nni_fail(errbuf, errlen,
						   QA_ERR_FORMAT,
						   "layer %u column %zu: shift "
						   "%u outside 0..%d", l, j, s,
						   QA_SHIFT_MAX);
			}
			L->shift[j] = (uint8_t)s;
			L->kw[j] = L->k_out - L->k_in - (int)s;
		}
		if (R->smode == SHIFT_NIBBLES && L->n % 2 &&
		    q[1 + L->n / 2] >> 4) {
			qa_qmodel_free(m);
			return qa_nni_fail(errbuf, errlen, QA_ERR_FORMAT,
					   "layer %u: unused shift nibble not "
					   "zero", l);
		}
		q += shift_bytes(L->n, R->smode);
	}
	rc = qa_qmodel_validate(m, errbuf, errlen);
	if (rc != QA_OK) {
		qa_qmodel_free(m);
		return QA_ERR_FORMAT;
	}
	return QA_OK;
}

int qa_qmodel_load(qa_qmodel *m, const char *path, char *errbuf,
		   size_t errlen)
{
	unsigned char *data = NULL;
	size_t len = 0;
	int rc;

	if (!m || !path || !*path)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "no model file given");
	memset(m, 0, sizeof(*m));
	rc = read_whole(path, QAM_MAX_BYTES, &data, &len, errbuf, errlen);
	if (rc == QA_OK)
		rc = qa_qmodel_decode(m, data, len, errbuf, errlen);
	if (rc != QA_OK)
		qa_nni_prefix(errbuf, errlen, path);
	free(data);
	return rc;
}

int qa_qmodel_save(const qa_qmodel *m, const char *path, char *errbuf,
		   size_t errlen)
{
	unsigned char *buf = NULL;
	size_t size, len = 0;
	int rc;

	rc = qa_qmodel_validate(m, errbuf, errlen);
	if (rc != QA_OK)
		return rc;
	size = encoded_size(m);
	if (size == 0)
		return qa_nni_fail(errbuf, errlen, QA_ERR_RANGE,
				   "the model is larger than the %u bytes a "
				   ".qam file may have", QAM_MAX_BYTES);
	buf = malloc(size);
	if (!buf)
		return qa_nni_fail(errbuf, errlen, QA_ERR_NOMEM,
				   "out of memory");
	rc = qa_qmodel_encode(m, buf, size, &len, errbuf, errlen);
	if (rc == QA_OK) {
		rc = qa_nni_write_atomic(path, buf, len, errbuf, errlen);
		if (rc != QA_OK)
			qa_nni_prefix(errbuf, errlen, path);
	}
	free(buf);
	return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mknpy.c - test utility: write a small .npy file through qa_npy_write, or
 * print one read through qa_npy_read.
 *
 *   mknpy OUT.npy DTYPE SHAPE VALUES
 *   mknpy OUT.npy DTYPE SHAPE rand:SEED:LO:HI
 *   mknpy --print FILE.npy
 *
 * DTYPE is int8, uint8, int32, int64 or float32. SHAPE is "" (0-d), "5" or
 * "3x4" (up to QA_NPY_MAX_DIMS dimensions, 0 allowed). VALUES is a comma
 * list with one value per element in C order ("" for no element);
 * rand:SEED:LO:HI fills with integers drawn uniformly from LO..HI
 * (inclusive) by a seeded splitmix64 generator, the same on every machine.
 *
 * --print writes two lines to stdout: "DTYPE SHAPE" (SHAPE as above, "()"
 * for 0-d) and the values as a comma list.
 *
 * Exit status: 0 ok, 1 bad arguments or I/O error.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qarray.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: mknpy OUT.npy DTYPE SHAPE (VALUES|rand:SEED:LO:HI)\n"
		"       mknpy --print FILE.npy\n"
		"DTYPE: int8 uint8 int32 int64 float32; SHAPE: '' (0-d), 5, 3x4;\n"
		"VALUES: comma list, one per element in C order.\n");
}

static int parse_dtype(const char *s, qa_dtype *dt)
{
	static const qa_dtype all[] = {QA_DT_INT8, QA_DT_UINT8, QA_DT_INT32,
				       QA_DT_INT64, QA_DT_FLOAT32};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(s, qa_dtype_name(all[i])) == 0) {
			*dt = all[i];
			return 0;
		}
	}
	return -1;
}

/* "" -> 0-d, "5" -> (5,), "3x4" -> (3, 4). */
static int parse_shape(const char *s, qa_array *a)
{
	const char *p = s;

	a->ndim = 0;
	a->count = 1;
	if (*p == '\0')
		return 0;
	for (;;) {
		char *end;
		unsigned long long v;

		if (*p < '0' || *p > '9' || a->ndim == QA_NPY_MAX_DIMS)
			return -1;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno || v > SIZE_MAX ||
		    (v && a->count > SIZE_MAX / (size_t)v))
			return -1;
		a->shape[a->ndim++] = (size_t)v;
		a->count *= (size_t)v;
		if (*end == '\0')
			return 0;
		if (*end != 'x')
			return -1;
		p = end + 1;
	}
}

/* Store value v (already range-checked) as element i. */
static void store(qa_array *a, size_t i, long long iv, double fv)
{
	switch (a->dtype) {
	case QA_DT_INT8:
		((int8_t *)a->data)[i] = (int8_t)iv;
		break;
	case QA_DT_UINT8:
		((uint8_t *)a->data)[i] = (uint8_t)iv;
		break;
	case QA_DT_INT32:
		((int32_t *)a->data)[i] = (int32_t)iv;
		break;
	case QA_DT_INT64:
		((int64_t *)a->data)[i] = (int64_t)iv;
		break;
	case QA_DT_FLOAT32:
		((float *)a->data)[i] = (float)fv;
		break;
	}
}

static int in_range(qa_dtype dt, long long v)
{
	switch (dt) {
	case QA_DT_INT8:
		return v >= INT8_MIN && v <= INT8_MAX;
	case QA_DT_UINT8:
		return v >= 0 && v <= UINT8_MAX;
	case QA_DT_INT32:
		return v >= INT32_MIN && v <= INT32_MAX;
	default:
		return 1;
	}
}

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int fill_rand(qa_array *a, const char *spec)
{
	unsigned long long seed;
	long long lo, hi;
	uint64_t state, span;
	size_t i;
	int used = 0;

	if (sscanf(spec, "rand:%llu:%lld:%lld%n", &seed, &lo, &hi, &used) != 3 ||
	    spec[used] != '\0' || lo > hi || !in_range(a->dtype, lo) ||
	    !in_range(a->dtype, hi)) {
		fprintf(stderr, "mknpy: bad rand spec '%s' for %s\n", spec,
			qa_dtype_name(a->dtype));
		return -1;
	}
	state = seed;
	span = (uint64_t)(hi - lo) + 1; /* 0 means the full 64-bit range */
	for (i = 0; i < a->count; i++) {
		uint64_t r = splitmix64(&state);
		long long v = span ? lo + (long long)(r % span) : (long long)r;

		store(a, i, v, (double)v);
	}
	return 0;
}

static int fill_list(qa_array *a, const char *list)
{
	const char *p = list;
	size_t i = 0;

	if (*p == '\0') {
		if (a->count == 0)
			return 0;
		fprintf(stderr, "mknpy: no values given for %zu elements\n",
			a->count);
		return -1;
	}
	for (;;) {
		char *end;
		long long iv = 0;
		double fv;

		if (i == a->count) {
			fprintf(stderr, "mknpy: more values than the %zu "
				"elements of the shape\n", a->count);
			return -1;
		}
		errno = 0;
		if (a->dtype == QA_DT_FLOAT32) {
			fv = strtod(p, &end);
		} else {
			iv = strtoll(p, &end, 10);
			fv = (double)iv;
		}
		if (end == p || errno || (*end != ',' && *end != '\0') ||
		    !in_range(a->dtype, iv)) {
			fprintf(stderr, "mknpy: bad %s value at '%s'\n",
				qa_dtype_name(a->dtype), p);
			return -1;
		}
		store(a, i++, iv, fv);
		if (*end == '\0')
			break;
		p = end + 1;
	}
	if (i != a->count) {
		fprintf(stderr, "mknpy: %zu values for %zu elements\n", i,
			a->count);
		return -1;
	}
	return 0;
}

static int print_file(const char *path)
{
	char msg[256] = "";
	qa_array a;
	size_t i;
	unsigned d;
	int rc;

	memset(&a, 0, sizeof(a));
	rc = qa_npy_read(path, &a, msg, sizeof(msg));
	if (rc != QA_OK) {
		fprintf(stderr, "mknpy: %s: %s\n", path,
			msg[0] ? msg : qa_strerror(rc));
		return 1;
	}
	printf("%s ", qa_dtype_name(a.dtype));
	if (a.ndim == 0)
		printf("()");
	for (d = 0; d < a.ndim; d++)
		printf("%s%zu", d ? "x" : "", a.shape[d]);
	printf("\n");
	for (i = 0; i < a.count; i++) {
		const char *sep = i ? "," : "";

		switch (a.dtype) {
		case QA_DT_INT8:
			printf("%s%d", sep, ((const int8_t *)a.data)[i]);
			break;
		case QA_DT_UINT8:
			printf("%s%u", sep, ((const uint8_t *)a.data)[i]);
			break;
		case QA_DT_INT32:
			printf("%s%" PRId32, sep, ((const int32_t *)a.data)[i]);
			break;
		case QA_DT_INT64:
			printf("%s%" PRId64, sep, ((const int64_t *)a.data)[i]);
			break;
		case QA_DT_FLOAT32:
			printf("%s%.9g", sep, (double)((const float *)a.data)[i]);
			break;
		}
	}
	printf("\n");
	qa_array_free(&a);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"print", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	char msg[256] = "";
	qa_array a;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "+hp:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'p':
			if (optind != argc) {
				usage(stderr);
				return 1;
			}
			return print_file(optarg);
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind != 4) {
		usage(stderr);
		return 1;
	}
	argv += optind;

	memset(&a, 0, sizeof(a));
	if (parse_dtype(argv[1], &a.dtype)) {
		fprintf(stderr, "mknpy: unknown dtype '%s'\n", argv[1]);
		return 1;
	}
	if (parse_shape(argv[2], &a)) {
		fprintf(stderr, "mknpy: bad shape '%s'\n", argv[2]);
		return 1;
	}
	/* one spare element so that a count of 0 still gets a pointer */
	a.data = calloc(a.count + 1, qa_dtype_size(a.dtype));
	if (!a.data) {
		fprintf(stderr, "mknpy: out of memory\n");
		return 1;
	}
	if (strncmp(argv[3], "rand:", 5) == 0 ? fill_rand(&a, argv[3])
					       : fill_list(&a, argv[3]))
		goto out;
	rc = qa_npy_write(argv[0], &a, msg, sizeof(msg));
	if (rc != QA_OK) {
		fprintf(stderr, "mknpy: %s: %s\n", argv[0],
			msg[0] ? msg : qa_strerror(rc));
		rc = 1;
		goto out;
	}
	rc = 0;
out:
	free(a.data);
	return rc;
}

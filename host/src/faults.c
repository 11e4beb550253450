/* SPDX-License-Identifier: Apache-2.0 */
/*
 * faults.c - the faulty wire of faults.h.
 */
#include "faults.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64 (Steele, Lea, Flood 2014) */
static uint64_t next(qa_faults *f)
{
	uint64_t z = (f->state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* true with probability p */
static int chance(qa_faults *f, double p)
{
	if (p <= 0.0)
		return 0;
	return (double)(next(f) >> 11) * 0x1.0p-53 < p;
}

int qa_faults_parse(qa_faults *f, const char *spec, unsigned stream,
		    char *err, size_t errlen)
{
	uint64_t seed = 1;
	memset(f, 0, sizeof *f);
	for (const char *p = spec; p && *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char item[64], *end;
		if (n == 0 || n >= sizeof item)
			goto bad;
		memcpy(item, p, n);
		item[n] = '\0';
		char *eq = strchr(item, '=');
		if (!eq || eq[1] == '\0')
			goto bad;
		*eq = '\0';
		if (strcmp(item, "seed") == 0) {
			seed = strtoull(eq + 1, &end, 10);
			if (*end || eq[1] == '-')
				goto bad;
		} else {
			double v = strtod(eq + 1, &end);
			double *dst = strcmp(item, "flip") == 0 ? &f->flip :
				      strcmp(item, "drop") == 0 ? &f->drop :
				      strcmp(item, "dup") == 0 ? &f->dup :
				      strcmp(item, "garbage") == 0 ? &f->garbage :
								     NULL;
			if (!dst || *end || !(v >= 0.0 && v <= 1.0))
				goto bad;
			*dst = v;
		}
		p = e ? e + 1 : p + n;
		continue;
bad:
		snprintf(err, errlen, "bad link fault '%.*s' (expected flip=P,"
			 "drop=P,dup=P,garbage=P,seed=N with 0 <= P <= 1)",
			 (int)n, p);
		return -1;
	}
	f->state = seed * 0x100000001b3ull + stream * 0x9e3779b97f4a7c15ull;
	return 0;
}

int qa_faults_active(const qa_faults *f)
{
	return f->flip > 0 || f->drop > 0 || f->dup > 0 || f->garbage > 0;
}

size_t qa_faults_pass(qa_faults *f, uint8_t b, uint8_t out[2])
{
	size_t n = 0;
	f->bytes++;
	if (chance(f, f->garbage)) {
		out[n++] = (uint8_t)next(f);
		f->garbages++;
	}
	if (chance(f, f->drop)) {
		f->drops++;
		return n;
	}
	if (chance(f, f->flip)) {
		b ^= (uint8_t)(1u << (next(f) & 7u));
		f->flips++;
	}
	out[n++] = b;
	if (n < 2 && chance(f, f->dup)) {
		out[n++] = b;
		f->dups++;
	}
	return n;
}

void qa_faults_describe(const qa_faults *f, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 " flipped, %" PRIu64 " dropped, %" PRIu64
		 " duplicated, %" PRIu64 " garbage bytes in %" PRIu64,
		 f->flips, f->drops, f->dups, f->garbages, f->bytes);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_proto.c - libFuzzer harness of the host's frame decoder
 * (host/src/proto.c: qa_proto_dec_push, qa_proto_dec_flush) and of
 * qa_proto_parse_link_info.
 *
 * Input: two bytes choose the decoder's max_payload (1..65535), one byte
 * seeds the chunking, the rest is the received byte stream. The stream is
 * decoded twice - handed over whole, and in random chunks of 1..16 bytes -
 * and flushed at the end, and both runs must give exactly the events of a
 * reference decoder written here in another way: it cuts the whole stream
 * at the 0x00 start markers and COBS-decodes each piece on its own
 * (docs/protocol.md).
 *
 * Invariants:
 * - *used never exceeds what was offered, a call that returns no event
 *   takes everything, a call that returns one takes at least a byte;
 * - every event, frame field and payload byte equals the reference's, and
 *   so do the decoder's statistics (frames, bad CRC, bad length,
 *   truncated, skipped bytes);
 * - a good frame has len <= max_payload and a payload when len > 0, and
 *   encoding it again (qa_proto_encode) and decoding that gives the same
 *   frame, in at most qa_proto_wire_max(len) bytes;
 * - the response helpers (check_response, expected_seq, names) take any
 *   frame; qa_proto_parse_link_info, on every 36-byte payload and on the
 *   stream's first 36 bytes, accepts exactly what docs/protocol.md allows
 *   and reports the fields little-endian.
 */
#include "fuzz.h"

#include "proto.h"

/* ---- reference decoder ------------------------------------------------------- */

typedef struct ref_event {
	qa_proto_event ev;
	uint8_t op, seq, status;
	size_t len;
	const uint8_t *payload; /* into the reference's body copy */
} ref_event;

typedef struct ref_result {
	ref_event *evs;
	size_t nev;
	qa_proto_dec_stats st;
	uint8_t *bodies; /* the decoded bodies of all frames, back to back */
} ref_result;

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/*
 * One piece of the stream between start markers: COBS-decode it (each
 * code byte c announces c - 1 data bytes and, unless c is 0xFF, a zero
 * after them), then read the header and the CRC. *end receives the index
 * of the piece's byte that finished the frame; bytes after it are noise.
 * Returns QA_PEV_NONE for a piece that ends before the frame does.
 */
static qa_proto_event ref_piece(const uint8_t *seg, size_t n,
				size_t max_payload, uint8_t *body,
				ref_event *e, size_t *end)
{
	size_t *src = malloc((n + 1) * sizeof(size_t));
	size_t blen = 0, i = 0;
	qa_proto_event ev = QA_PEV_NONE;

	FUZZ_CHECK(src != NULL, "out of memory");
	while (i < n) {
		size_t code_at = i, want = (size_t)seg[i++] - 1, got = 0;

		while (got < want && i < n) {
			src[blen] = i;
			body[blen++] = seg[i++];
			got++;
		}
		if (got == want && seg[code_at] != 0xFF) {
			src[blen] = want ? i - 1 : code_at;
			body[blen++] = 0;
		}
	}
	if (blen >= QA_PROTO_HDR_LEN) {
		size_t len = (size_t)body[3] | (size_t)body[4] << 8;

		if (len > max_payload) {
			ev = QA_PEV_BAD_LENGTH;
			*end = src[QA_PROTO_HDR_LEN - 1];
		} else if (blen >= len + QA_PROTO_OVERHEAD) {
			uint32_t crc = qa_crc32(0, body, QA_PROTO_HDR_LEN + len);

			*end = src[len + QA_PROTO_OVERHEAD - 1];
			if (le32(body + QA_PROTO_HDR_LEN + len) != crc) {
				ev = QA_PEV_BAD_CRC;
			} else {
				ev = QA_PEV_FRAME;
				e->op = body[0];
				e->seq = body[1];
				e->status = body[2];
				e->len = len;
				e->payload = body + QA_PROTO_HDR_LEN;
			}
		}
	}
	free(src);
	return ev;
}

static void ref_decode(const uint8_t *s, size_t n, size_t max_payload,
		       ref_result *r)
{
	size_t i = 0, body_at = 0;

	memset(r, 0, sizeof(*r));
	r->evs = calloc(n + 1, sizeof(*r->evs));
	/* a piece decodes to fewer bytes than it has, plus one zero */
	r->bodies = malloc(n + 1);
	FUZZ_CHECK(r->evs && r->bodies, "out of memory");
	/* before the first marker everything is noise */
	while (i < n && s[i] != QA_PROTO_SOF) {
		r->st.skipped++;
		i++;
	}
	while (i < n) {
		size_t start = ++i, len, end = 0;
		ref_event e;

		while (i < n && s[i] != QA_PROTO_SOF)
			i++;
		len = i - start;
		memset(&e, 0, sizeof e);
		e.ev = ref_piece(s + start, len, max_payload,
				 r->bodies + body_at, &e, &end);
		if (e.ev == QA_PEV_NONE) {
			/* cut short by the next marker, or by the final flush */
			if (len) {
				e.ev = QA_PEV_TRUNCATED;
				r->st.truncated++;
				r->evs[r->nev++] = e;
			}
			continue;
		}
		r->st.skipped += len - (end + 1);
		if (e.ev == QA_PEV_FRAME) {
			r->st.frames++;
			body_at += len + 1;
		} else if (e.ev == QA_PEV_BAD_CRC) {
			r->st.bad_crc++;
		} else {
			r->st.bad_length++;
		}
		r->evs[r->nev++] = e;
	}
}

/* ---- checks -------------------------------------------------------------------- */

static void check_link_info(const uint8_t *p)
{
	qa_proto_link_info li;
	const uint8_t *q = p + QA_PROTO_IDENT_CORE_LEN;
	int rc = qa_proto_parse_link_info(p, QA_PROTO_IDENT_LEN, &li);
	unsigned mp = (unsigned)q[2] | (unsigned)q[3] << 8;
	int ok = q[0] == QA_PROTO_VERSION && q[1] >= 1 &&
		 mp >= QA_PROTO_IDENT_LEN && le32(q + 4) >= mp &&
		 le32(q + 8) != 0 && le32(q + 12) != 0;

	FUZZ_CHECK(rc == QA_OK || rc == QA_ERR_DEVICE ||
			   rc == QA_ERR_UNSUPPORTED,
		   "parse_link_info: rc %d", rc);
	FUZZ_CHECK((rc == QA_OK) == ok, "parse_link_info: rc %d, expected %s",
		   rc, ok ? "QA_OK" : "an error");
	FUZZ_CHECK((rc == QA_ERR_UNSUPPORTED) == (q[0] != QA_PROTO_VERSION),
		   "parse_link_info: rc %d for version %u", rc, q[0]);
	if (rc == QA_OK)
		FUZZ_CHECK(li.version == q[0] && li.max_frames == q[1] &&
				   li.max_payload == mp &&
				   li.rx_buffer == le32(q + 4) &&
				   li.baud == le32(q + 8) &&
				   li.timeout_cycles == le32(q + 12),
			   "parse_link_info: fields differ");
	/* any other length is refused */
	FUZZ_CHECK(qa_proto_parse_link_info(p, QA_PROTO_IDENT_LEN - 1, &li) ==
			   QA_ERR_DEVICE,
		   "parse_link_info accepted 35 bytes");
}

/* A good frame: fields in range, helpers defined, encode/decode round trip. */
static void check_frame(const qa_proto_frame *f, size_t max_payload)
{
	qa_proto_dec *d = NULL;
	qa_proto_frame g;
	uint8_t *wire;
	size_t cap = qa_proto_wire_max(f->len), wlen = 0, used = 0;

	FUZZ_CHECK(f->len <= max_payload, "len %zu > max_payload %zu", f->len,
		   max_payload);
	FUZZ_CHECK(f->len == 0 || f->payload != NULL, "no payload");
	FUZZ_CHECK(qa_proto_op_name(f->op) && qa_proto_status_name(f->status),
		   "a name is NULL");
	FUZZ_CHECK(qa_proto_check_response(f, f->op, f->seq) ==
			   ((f->op & QA_PROTO_RSP) ? QA_PM_MATCH :
						     QA_PM_NOT_RESPONSE),
		   "check_response on the frame's own op and seq");
	FUZZ_CHECK(qa_proto_expected_seq(f) >= -1 &&
			   qa_proto_expected_seq(f) <= 255,
		   "expected_seq out of range");
	if (f->len == QA_PROTO_IDENT_LEN)
		check_link_info(f->payload);

	wire = malloc(cap);
	FUZZ_CHECK(wire != NULL, "out of memory");
	FUZZ_CHECK(qa_proto_encode(f, wire, cap, &wlen) == QA_OK,
		   "cannot encode a decoded frame");
	FUZZ_CHECK(wlen <= cap && wire[0] == QA_PROTO_SOF, "encoded badly");
	for (size_t i = 1; i < wlen; i++)
		FUZZ_CHECK(wire[i] != 0, "a zero inside an encoded frame");
	/* a decoder just large enough for this frame */
	FUZZ_CHECK(qa_proto_dec_new(&d, f->len ? f->len : 1) == QA_OK,
		   "dec_new");
	FUZZ_CHECK(qa_proto_dec_push(d, wire, wlen, &used, &g) ==
				   QA_PEV_FRAME &&
			   used == wlen,
		   "an encoded frame does not decode");
	FUZZ_CHECK(g.op == f->op && g.seq == f->seq && g.status == f->status &&
			   g.len == f->len &&
			   (f->len == 0 ||
			    memcmp(g.payload, f->payload, f->len) == 0),
		   "round trip changed the frame");
	qa_proto_dec_free(d);
	free(wire);
}

/* an event of the decoder must be the reference's next one */
static void check_event(const ref_result *r, size_t *k, qa_proto_event ev,
			const qa_proto_frame *f, size_t max_payload,
			const char *how)
{
	const ref_event *e;

	FUZZ_CHECK(*k < r->nev, "%s: event %d after the reference's %zu", how,
		   (int)ev, r->nev);
	e = &r->evs[(*k)++];
	FUZZ_CHECK(e->ev == ev, "%s: event %zu is %d, reference %d", how,
		   *k - 1, (int)ev, (int)e->ev);
	if (ev != QA_PEV_FRAME)
		return;
	FUZZ_CHECK(f->op == e->op && f->seq == e->seq &&
			   f->status == e->status && f->len == e->len &&
			   (f->len == 0 ||
			    memcmp(f->payload, e->payload, f->len) == 0),
		   "%s: frame %zu differs from the reference", how, *k - 1);
	check_frame(f, max_payload);
}

/* tiny deterministic generator for the chunk sizes */
static uint32_t next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Decode s in chunks (chunk_seed 0: one piece) and compare with r. */
static void run_decoder(const uint8_t *s, size_t n, size_t max_payload,
			unsigned chunk_seed, const ref_result *r)
{
	const char *how = chunk_seed ? "chunked" : "whole";
	uint32_t rng = 0x9E3779B9u ^ chunk_seed;
	qa_proto_dec *d = NULL;
	qa_proto_dec_stats st;
	size_t off = 0, k = 0;
	qa_proto_event ev;

	FUZZ_CHECK(qa_proto_dec_new(&d, max_payload) == QA_OK, "dec_new(%zu)",
		   max_payload);
	while (off < n) {
		size_t chunk = n - off, left;

		if (chunk_seed && chunk > 1)
			chunk = 1 + next_rand(&rng) % (chunk < 16 ? chunk : 16);
		left = chunk;
		while (left) {
			qa_proto_frame f;
			size_t used = (size_t)-1;

			ev = qa_proto_dec_push(d, s + off, left, &used, &f);
			FUZZ_CHECK(used <= left, "%s: used %zu of %zu", how,
				   used, left);
			if (ev == QA_PEV_NONE) {
				FUZZ_CHECK(used == left,
					   "%s: no event, but used %zu of %zu",
					   how, used, left);
			} else {
				FUZZ_CHECK(used >= 1, "%s: event from 0 bytes",
					   how);
				check_event(r, &k, ev, &f, max_payload, how);
			}
			off += used;
			left -= used;
		}
	}
	ev = qa_proto_dec_flush(d);
	FUZZ_CHECK(ev == QA_PEV_NONE || ev == QA_PEV_TRUNCATED,
		   "flush gave %d", (int)ev);
	if (ev != QA_PEV_NONE)
		check_event(r, &k, ev, NULL, max_payload, how);
	FUZZ_CHECK(qa_proto_dec_flush(d) == QA_PEV_NONE, "second flush");
	FUZZ_CHECK(k == r->nev, "%s: %zu events, reference %zu", how, k,
		   r->nev);
	qa_proto_dec_get_stats(d, &st);
	FUZZ_CHECK(st.frames == r->st.frames && st.bad_crc == r->st.bad_crc &&
			   st.bad_length == r->st.bad_length &&
			   st.truncated == r->st.truncated &&
			   st.skipped == r->st.skipped,
		   "%s: stats %llu/%llu/%llu/%llu/%llu, reference "
		   "%llu/%llu/%llu/%llu/%llu",
		   how, (unsigned long long)st.frames,
		   (unsigned long long)st.bad_crc,
		   (unsigned long long)st.bad_length,
		   (unsigned long long)st.truncated,
		   (unsigned long long)st.skipped,
		   (unsigned long long)r->st.frames,
		   (unsigned long long)r->st.bad_crc,
		   (unsigned long long)r->st.bad_length,
		   (unsigned long long)r->st.truncated,
		   (unsigned long long)r->st.skipped);
	qa_proto_dec_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *s = data + 3;
	size_t n, max_payload;
	ref_result r;

	if (size < 3)
		return 0;
	max_payload = 1 + ((size_t)data[0] | (size_t)data[1] << 8) %
				  QA_PROTO_PAYLOAD_LIMIT;
	n = size - 3;
	if (n >= QA_PROTO_IDENT_LEN)
		check_link_info(s);

	ref_decode(s, n, max_payload, &r);
	run_decoder(s, n, max_payload, 0, &r);
	run_decoder(s, n, max_payload, 1u + data[2], &r);
	free(r.evs);
	free(r.bodies);
	return 0;
}

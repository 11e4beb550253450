/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proto.c - the framed wire protocol (docs/protocol.md): CRC-32, COBS frame
 * encoding, an incremental decoder that resynchronises on start markers, and
 * the response checks.
 */
#include "proto.h"

#include <stdlib.h>
#include <string.h>

#define COBS_RUN_MAX 254u /* non-zero bytes one code byte can announce */

uint32_t qa_crc32(uint32_t crc, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

size_t qa_proto_wire_max(size_t payload_len)
{
	size_t n = payload_len + QA_PROTO_OVERHEAD;

	return 1 + n + (n + COBS_RUN_MAX - 1) / COBS_RUN_MAX;
}

/* the body bytes: header, payload, CRC, without building a copy */
typedef struct body_view {
	uint8_t hdr[QA_PROTO_HDR_LEN];
	const uint8_t *payload;
	size_t len;
	uint8_t crc[QA_PROTO_CRC_LEN];
} body_view;

static uint8_t body_at(const body_view *v, size_t i)
{
	if (i < QA_PROTO_HDR_LEN)
		return v->hdr[i];
	i -= QA_PROTO_HDR_LEN;
	if (i < v->len)
		return v->payload[i];
	return v->crc[i - v->len];
}

int qa_proto_encode(const qa_proto_frame *f, uint8_t *out, size_t cap,
		    size_t *outlen)
{
	if (!f || !out || !outlen || (f->len && !f->payload))
		return QA_ERR_INVALID;
	if (f->len > QA_PROTO_PAYLOAD_LIMIT)
		return QA_ERR_RANGE;
	body_view v = {
		.hdr = { f->op, f->seq, f->status, (uint8_t)(f->len & 0xffu),
			 (uint8_t)(f->len >> 8) },
		.payload = f->payload,
		.len = f->len,
	};
	uint32_t crc = qa_crc32(0, v.hdr, sizeof v.hdr);
	if (f->len)
		crc = qa_crc32(crc, f->payload, f->len);
	for (unsigned i = 0; i < QA_PROTO_CRC_LEN; i++)
		v.crc[i] = (uint8_t)(crc >> (8 * i));

	/* exact size first, so a short buffer is never half written */
	size_t n = f->len + QA_PROTO_OVERHEAD, need = 1, i = 0;
	while (i < n) {
		size_t run = 0;
		need++; /* code byte */
		while (i < n && run < COBS_RUN_MAX) {
			if (body_at(&v, i++) == 0)
				break;
			run++;
		}
		need += run;
	}
	if (need > cap)
		return QA_ERR_INVALID;

	size_t o = 0;
	out[o++] = QA_PROTO_SOF;
	i = 0;
	while (i < n) {
		size_t code_at = o++, run = 0;
		while (i < n && run < COBS_RUN_MAX) {
			uint8_t b = body_at(&v, i++);
			if (b == 0)
				break;
			out[o++] = b;
			run++;
		}
		out[code_at] = (uint8_t)(run + 1);
	}
	*outlen = o;
	return QA_OK;
}

/* ---- decoder ------------------------------------------------------------------ */

struct qa_proto_dec {
	size_t max_payload;
	uint8_t *body;    /* max_payload + 9 bytes */
	size_t blen;      /* body bytes decoded */
	size_t need;      /* body length once the header is in, else 0 */
	unsigned left;    /* bytes left in the current COBS group; 0: a code is next */
	int ff;           /* the current group's code is 0xFF (no implied zero) */
	int in_frame;     /* a start marker was seen and the frame is not finished */
	int got;          /* the frame has had a byte after its marker */
	qa_proto_dec_stats st;
};

int qa_proto_dec_new(qa_proto_dec **dp, size_t max_payload)
{
	if (!dp)
		return QA_ERR_INVALID;
	*dp = NULL;
	if (max_payload < 1 || max_payload > QA_PROTO_PAYLOAD_LIMIT)
		return QA_ERR_INVALID;
	qa_proto_dec *d = calloc(1, sizeof *d);
	if (!d)
		return QA_ERR_NOMEM;
	d->body = malloc(max_payload + QA_PROTO_OVERHEAD);
	if (!d->body) {
		free(d);
		return QA_ERR_NOMEM;
	}
	d->max_payload = max_payload;
	*dp = d;
	return QA_OK;
}

void qa_proto_dec_free(qa_proto_dec *d)
{
	if (!d)
		return;
	free(d->body);
	free(d);
}

static void dec_start(qa_proto_dec *d)
{
	d->in_frame = 1;
	d->got = 0;
	d->blen = 0;
	d->need = 0;
	d->left = 0;
	d->ff = 0;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* one decoded body byte; returns the event it completes, if any */
static qa_proto_event dec_body_byte(qa_proto_dec *d, uint8_t b,
				    qa_proto_frame *f)
{
	d->body[d->blen++] = b;
	if (d->blen == QA_PROTO_HDR_LEN) {
		size_t len = (size_t)d->body[3] | (size_t)d->body[4] << 8;
		if (len > d->max_payload) {
			d->in_frame = 0;
			d->st.bad_length++;
			return QA_PEV_BAD_LENGTH;
		}
		d->need = len + QA_PROTO_OVERHEAD;
	}
	if (d->need == 0 || d->blen < d->need)
		return QA_PEV_NONE;
	d->in_frame = 0;
	size_t len = d->need - QA_PROTO_OVERHEAD;
	uint32_t want = qa_crc32(0, d->body, QA_PROTO_HDR_LEN + len);
	if (get_le32(d->body + QA_PROTO_HDR_LEN + len) != want) {
		d->st.bad_crc++;
		return QA_PEV_BAD_CRC;
	}
	d->st.frames++;
	f->op = d->body[0];
	f->seq = d->body[1];
	f->status = d->body[2];
	f->len = len;
	f->payload = d->body + QA_PROTO_HDR_LEN;
	return QA_PEV_FRAME;
}

qa_proto_event qa_proto_dec_push(qa_proto_dec *d, const uint8_t *buf,
				 size_t n, size_t *used, qa_proto_frame *f)
{
	qa_proto_frame dummy;
	size_t i = 0;
	qa_proto_event ev = QA_PEV_NONE;

	if (!f)
		f = &dummy;
	if (!d || (!buf && n)) {
		if (used)
			*used = 0;
		return QA_PEV_NONE;
	}
	while (i < n && ev == QA_PEV_NONE) {
		uint8_t b = buf[i++];
		if (b == QA_PROTO_SOF) {
			if (d->in_frame && d->got) {
				d->st.truncated++;
				ev = QA_PEV_TRUNCATED;
			}
			dec_start(d);
			continue;
		}
		if (!d->in_frame) {
			d->st.skipped++;
			continue;
		}
		d->got = 1;
		if (d->left == 0) {
			/* code byte: b-1 data bytes follow, then an implied zero
			 * unless b is 0xFF */
			d->left = b - 1u;
			d->ff = (b == 0xFF);
			if (d->left == 0)
				ev = dec_body_byte(d, 0, f);
		} else {
			ev = dec_body_byte(d, b, f);
			d->left--;
			if (ev == QA_PEV_NONE && d->left == 0 && !d->ff)
				ev = dec_body_byte(d, 0, f);
		}
	}
	if (used)
		*used = i;
	return ev;
}

qa_proto_event qa_proto_dec_flush(qa_proto_dec *d)
{
	if (!d)
		return QA_PEV_NONE;
	int partial = d->in_frame && d->got;
	d->in_frame = 0;
	if (!partial)
		return QA_PEV_NONE;
	d->st.truncated++;
	return QA_PEV_TRUNCATED;
}

void qa_proto_dec_get_stats(const qa_proto_dec *d, qa_proto_dec_stats *st)
{
	if (!st)
		return;
	if (!d) {
		memset(st, 0, sizeof *st);
		return;
	}
	*st = d->st;
}

/* ---- responses ----------------------------------------------------------------- */

qa_proto_match qa_proto_check_response(const qa_proto_frame *rsp,
				       uint8_t cmd_op, uint8_t cmd_seq)
{
	if (!rsp || !(rsp->op & QA_PROTO_RSP))
		return QA_PM_NOT_RESPONSE;
	if ((rsp->op & 0x7Fu) != (cmd_op & 0x7Fu))
		return QA_PM_WRONG_OP;
	if (rsp->seq != cmd_seq)
		return QA_PM_WRONG_SEQ;
	return QA_PM_MATCH;
}

int qa_proto_status_resend(unsigned status)
{
	status &= QA_PROTO_STATUS_MASK;
	return status >= QA_PST_BAD_CRC && status <= QA_PST_SEQUENCE;
}

int qa_proto_expected_seq(const qa_proto_frame *rsp)
{
	if (!rsp || (rsp->status & QA_PROTO_STATUS_MASK) == QA_PST_OK ||
	    rsp->len != 1 || !rsp->payload)
		return -1;
	return rsp->payload[0];
}

const char *qa_proto_status_name(unsigned status)
{
	static const char *const names[QA_PST_COUNT] = {
		[QA_PST_OK] = "OK",
		[QA_PST_BAD_CRC] = "BAD_CRC",
		[QA_PST_BAD_LENGTH] = "BAD_LENGTH",
		[QA_PST_TIMEOUT] = "TIMEOUT",
		[QA_PST_OVERFLOW] = "OVERFLOW",
		[QA_PST_LINE_ERROR] = "LINE_ERROR",
		[QA_PST_SEQUENCE] = "SEQUENCE",
		[QA_PST_UNKNOWN_OPCODE] = "UNKNOWN_OPCODE",
		[QA_PST_BAD_SIZE] = "BAD_SIZE",
		[QA_PST_BAD_ARG] = "BAD_ARG",
		[QA_PST_BUSY] = "BUSY",
		[QA_PST_NO_LOAD] = "NO_LOAD",
	};
	status &= QA_PROTO_STATUS_MASK;
	return status < QA_PST_COUNT ? names[status] : "?";
}

const char *qa_proto_op_name(unsigned op)
{
	static const char *const names[] = {
		[QA_POP_NOP] = "NOP",
		[QA_POP_IDENT] = "IDENT",
		[QA_POP_LOAD_X] = "LOAD_X",
		[QA_POP_LOAD_W] = "LOAD_W",
		[QA_POP_LOAD_P] = "LOAD_P",
		[QA_POP_RUN] = "RUN",
		[QA_POP_COUNTERS] = "COUNTERS",
		[QA_POP_CLEAR] = "CLEAR",
		[QA_POP_LOAD_WA] = "LOAD_WA",
		[QA_POP_LOAD_PA] = "LOAD_PA",
		[QA_POP_NET_LOAD] = "NET_LOAD",
		[QA_POP_NET_RUN] = "NET_RUN",
		[QA_POP_LOAD_MORE] = "LOAD_MORE",
		[QA_POP_RESET] = "RESET",
	};
	op &= 0x7Fu;
	if (op >= sizeof names / sizeof names[0] || !names[op])
		return "?";
	return names[op];
}

int qa_proto_parse_link_info(const uint8_t *ident, size_t len,
			     qa_proto_link_info *li)
{
	if (!ident || !li || len != QA_PROTO_IDENT_LEN)
		return QA_ERR_DEVICE;
	const uint8_t *p = ident + QA_PROTO_IDENT_CORE_LEN;
	li->version = p[0];
	li->max_frames = p[1];
	li->max_payload = (unsigned)p[2] | (unsigned)p[3] << 8;
	li->rx_buffer = get_le32(p + 4);
	li->baud = get_le32(p + 8);
	li->timeout_cycles = get_le32(p + 12);
	if (li->version != QA_PROTO_VERSION)
		return QA_ERR_UNSUPPORTED;
	/* never trust the device: the window must be usable and consistent */
	if (li->max_frames < 1 || li->max_payload < QA_PROTO_IDENT_LEN ||
	    li->rx_buffer < li->max_payload || li->baud == 0 ||
	    li->timeout_cycles == 0)
		return QA_ERR_DEVICE;
	return QA_OK;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * error.c - names and descriptions of the qa_err codes.
 *
 * Both functions accept any int and never return NULL, so a caller can print
 * the result of any library call without checking it first.
 */
#include "qarray.h"

const char *qa_strerror(int err)
{
	switch (err) {
	case QA_OK:
		return "success";
	case QA_ERR_INVALID:
		return "invalid argument";
	case QA_ERR_NOMEM:
		return "out of memory";
	case QA_ERR_IO:
		return "input/output error";
	case QA_ERR_FORMAT:
		return "malformed file";
	case QA_ERR_RANGE:
		return "value out of the supported range";
	case QA_ERR_TIMEOUT:
		return "timed out";
	case QA_ERR_DEVICE:
		return "device error";
	case QA_ERR_UNSUPPORTED:
		return "not supported";
	case QA_ERR_MISMATCH:
		return "result differs from the golden model";
	default:
		return "unknown error";
	}
}

const char *qa_errname(int err)
{
	switch (err) {
	case QA_OK:
		return "QA_OK";
	case QA_ERR_INVALID:
		return "QA_ERR_INVALID";
	case QA_ERR_NOMEM:
		return "QA_ERR_NOMEM";
	case QA_ERR_IO:
		return "QA_ERR_IO";
	case QA_ERR_FORMAT:
		return "QA_ERR_FORMAT";
	case QA_ERR_RANGE:
		return "QA_ERR_RANGE";
	case QA_ERR_TIMEOUT:
		return "QA_ERR_TIMEOUT";
	case QA_ERR_DEVICE:
		return "QA_ERR_DEVICE";
	case QA_ERR_UNSUPPORTED:
		return "QA_ERR_UNSUPPORTED";
	case QA_ERR_MISMATCH:
		return "QA_ERR_MISMATCH";
	default:
		return "QA_ERR_UNKNOWN";
	}
}

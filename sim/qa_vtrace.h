// SPDX-License-Identifier: Apache-2.0
// qa_vtrace.h - FST tracing of one Verilated top, shared by the core and
// chip model bindings (qa_sim_variant.cpp, qa_chip_variant.cpp).
#ifndef QA_VTRACE_H
#define QA_VTRACE_H

#include <verilated.h>
#include <verilated_fst_c.h>

#include <cstdint>
#include <new>

class qa_vtrace {
public:
	qa_vtrace() : fst_(nullptr) {}
	~qa_vtrace() { close(); }
	qa_vtrace(const qa_vtrace &) = delete;
	qa_vtrace &operator=(const qa_vtrace &) = delete;

	// Start a trace of top into path; false if it cannot be opened.
	template <class Top> bool open(Top *top, const char *path)
	{
		close();
		fst_ = new (std::nothrow) VerilatedFstC;
		if (!fst_)
			return false;
		top->trace(fst_, 99);
		fst_->open(path);
		if (!fst_->isOpen()) {
			delete fst_;
			fst_ = nullptr;
			return false;
		}
		return true;
	}
	void dump(uint64_t time)
	{
		if (fst_)
			fst_->dump(time);
	}
	void close()
	{
		if (fst_) {
			fst_->close();
			delete fst_;
			fst_ = nullptr;
		}
	}

private:
	VerilatedFstC *fst_;
};

#endif

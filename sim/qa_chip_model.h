// SPDX-License-Identifier: Apache-2.0
// qa_chip_model.h - the pin-level interface every built Verilator model of
// qa_chip implements (sim/qa_chip_variant.cpp), so that qa_chip_sim.cpp can
// drive any board configuration.
#ifndef QA_CHIP_MODEL_H
#define QA_CHIP_MODEL_H

#include <cstdint>

class qa_chip_model {
public:
	virtual ~qa_chip_model() {}
	virtual void set_clk(bool v) = 0;
	virtual void set_rst(bool v) = 0;
	virtual void set_rx(bool v) = 0;
	virtual void eval() = 0;
	virtual bool tx() const = 0;
	virtual bool busy() const = 0;
	virtual unsigned leds() const = 0; // bit 0 heartbeat, 1 busy, 2 error
	virtual bool trace_open(const char *path) = 0;
	virtual void trace_dump(uint64_t time) = 0;
	virtual void trace_close() = 0;
};

#endif

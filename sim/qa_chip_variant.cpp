// SPDX-License-Identifier: Apache-2.0
// qa_chip_variant.cpp - binds one Verilated qa_chip (prefix QA_VPREFIX) to
// the qa_chip_model interface. Compiled once per built board configuration
// with -DQA_VPREFIX=Vqa_chip_icebreaker -DQA_VFACTORY=qa_chip_new_icebreaker
#include "qa_chip_model.h"

#include "qa_vtrace.h"

#include <verilated.h>

#include <memory>
#include <new>

#define QA_STR2(x) #x
#define QA_STR(x) QA_STR2(x)
#define QA_HDR(p) QA_STR(p.h)
#include QA_HDR(QA_VPREFIX)

namespace {

class chip_impl final : public qa_chip_model {
public:
	chip_impl() : ctx_(new VerilatedContext), top_(nullptr)
	{
		ctx_->traceEverOn(true);
		top_ = new QA_VPREFIX(ctx_.get(), "qa_chip");
		top_->uart_rx_i = 1;
	}
	~chip_impl() override
	{
		trace_close();
		top_->final();
		delete top_;
	}
	void set_clk(bool v) override { top_->clk_i = v; }
	void set_rst(bool v) override { top_->rst_i = v; }
	void set_rx(bool v) override { top_->uart_rx_i = v; }
	void eval() override { top_->eval(); }
	bool tx() const override { return top_->uart_tx_o; }
	bool busy() const override { return top_->busy_o; }
	unsigned leds() const override
	{
		return (top_->led_heartbeat_o ? 1u : 0u) |
		       (top_->led_busy_o ? 2u : 0u) |
		       (top_->led_error_o ? 4u : 0u);
	}
	bool trace_open(const char *path) override
	{
		return trace_.open(top_, path);
	}
	void trace_dump(uint64_t time) override { trace_.dump(time); }
	void trace_close() override { trace_.close(); }

private:
	std::unique_ptr<VerilatedContext> ctx_;
	QA_VPREFIX *top_;
	qa_vtrace trace_;
};

} // namespace

qa_chip_model *QA_VFACTORY();
qa_chip_model *QA_VFACTORY()
{
	return new (std::nothrow) chip_impl;
}

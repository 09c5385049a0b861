# Entry points.  `make demo` and `make test` do all the setup on a fresh
# Debian 12 machine (as root): they install missing packages first.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
# `make fuzz`: seconds per target, and which targets (tests/fuzz/).
FUZZ_SECONDS ?= 300
FUZZ_TARGETS ?= ein defines npy target plan mlb asm api
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build python demo test test-release test-asan test-fuzz fuzz-build fuzz valgrind clean

all: build

deps:
	@sh scripts/deps.sh

# Each step is one line ("building ... ok (40 s)"), its output in a log
# shown when it fails; VERBOSE=1 shows everything as it runs.
STEP = sh scripts/step.sh

build: deps
	@$(STEP) $(BUILD)/logs/configure.log "configuring ($(BUILD))" \
		cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	@$(STEP) $(BUILD)/logs/build.log "building ($(BUILD))" cmake --build $(BUILD) -j $(JOBS)

# The Python package in place: PYTHONPATH=python python3 -c 'import mambalaya'
# works from the repository's root (pip install ./python installs it).
python: build
	@cp $(BUILD)/lib/libmambalaya.so python/mambalaya/libmambalaya.so
	@echo "python: PYTHONPATH=python python3 -c 'import mambalaya' (or: pip install ./python)"

demo: build
	@sh scripts/demo.sh $(BUILD)

# The whole suite, in a release build and under AddressSanitizer + UBSan,
# then a short libFuzzer run of every fuzz target.
test: test-release test-asan test-fuzz

test-release: build
	@sh scripts/ctest_summary.sh $(BUILD) release $(JOBS)

test-asan: deps
	@$(STEP) $(ASAN_BUILD)/logs/configure.log "configuring ($(ASAN_BUILD), ASan + UBSan)" \
		cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAMBALAYA_SANITIZE=ON
	@$(STEP) $(ASAN_BUILD)/logs/build.log "building ($(ASAN_BUILD))" \
		cmake --build $(ASAN_BUILD) -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		sh scripts/ctest_summary.sh $(ASAN_BUILD) "ASan + UBSan" $(JOBS)

# The fuzz targets of tests/fuzz with libFuzzer, ASan and UBSan (clang, a
# build directory of its own).
fuzz-build: deps
	@$(STEP) $(FUZZ_BUILD)/logs/configure.log "configuring ($(FUZZ_BUILD), libFuzzer)" \
		cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAMBALAYA_FUZZ=ON -DMAMBALAYA_TESTS=OFF
	@$(STEP) $(FUZZ_BUILD)/logs/build.log "building ($(FUZZ_BUILD))" \
		cmake --build $(FUZZ_BUILD) -j $(JOBS)

# Smoke run: every fuzz target for a few seconds (fixed seed) on its seed
# corpus, regression inputs and fresh inputs.
test-fuzz: fuzz-build
	@sh scripts/ctest_summary.sh $(FUZZ_BUILD) "fuzz smoke" $(JOBS) -L fuzz

# The longer campaign: FUZZ_SECONDS per target (docs/reliability.md).
fuzz: fuzz-build
	@sh scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Every test of the suite with its programs under valgrind memcheck: fails
# on any memory error and on definite or indirect leaks.
valgrind: build
	@sh scripts/valgrind.sh $(BUILD) $(JOBS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

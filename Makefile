# Entry points.  `make demo` and `make test` do all the setup on a fresh
# Debian 12 machine (as root): they install missing packages first.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build demo test test-release test-asan valgrind clean

all: build

deps:
	@sh scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@sh scripts/demo.sh $(BUILD)

# The whole suite, in a release build and under AddressSanitizer + UBSan.
test: test-release test-asan

test-release: build
	@cd $(BUILD) && ctest -j $(JOBS) --output-on-failure

test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAMBALAYA_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest -j $(JOBS) --output-on-failure

# The suite's programs under valgrind memcheck (no leaks allowed).
valgrind: build
	@cd $(BUILD) && ctest -j $(JOBS) --output-on-failure -T memcheck \
		--overwrite MemoryCheckCommandOptions="--leak-check=full --error-exitcode=99 --errors-for-leak-kinds=definite,indirect"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# chexgen: the two README commands are `make demo` and `make test`.
# Every target installs missing Debian packages first (scripts/install-deps.sh, idempotent).

JOBS ?= $(shell nproc)
CMAKE ?= cmake
RELEASE := build/release
ASAN := build/asan
FUZZ := build/fuzz
TSAN := build/tsan
BENCH := build/bench
FUZZ_SECONDS ?= 30

.PHONY: all deps build demo test unit fuzz tsan bench reference-deps clean

all: build

deps:
	@scripts/install-deps.sh

# Release build of the chexgen program.
build: deps
	$(CMAKE) -S . -B $(RELEASE) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCHEXGEN_TESTS=OFF
	$(CMAKE) --build $(RELEASE) -j$(JOBS)

# The main job on the bundled sample.
demo: build
	scripts/demo.sh $(RELEASE)/chexgen

# The whole test suite: unit and command-line tests in Debug with AddressSanitizer + UBSan, the fuzzers briefly, and
# the concurrency tests under ThreadSanitizer.
test: unit fuzz tsan

# The tests also install Debian's Python packages (reference-deps): some tests compute their reference on the machine
# itself (bit-identity with torch depends on the CPU's BLAS kernels), and are skipped, saying why, without them.
unit: deps reference-deps
	$(CMAKE) -S . -B $(ASAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCHEXGEN_SANITIZE=ON
	$(CMAKE) --build $(ASAN) -j$(JOBS)
	cd $(ASAN) && ctest --output-on-failure -j$(JOBS)

fuzz: deps
	CC=clang CXX=clang++ $(CMAKE) -S . -B $(FUZZ) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHEXGEN_FUZZ=ON -DCHEXGEN_TESTS=OFF
	$(CMAKE) --build $(FUZZ) -j$(JOBS)
	scripts/fuzz-smoke.sh $(FUZZ) $(FUZZ_SECONDS)

# ThreadSanitizer on the tests of the code that runs threads: the worker pool (core), the feature store's concurrent
# puts and its lock (features), the filter's and the Images API's concurrent requests, the journal and export
# (curation), the report scores computed side by side (rrg). These libraries do not link LibTorch, whose prebuilt
# code TSan cannot see into.
TSAN_TESTS := test_core test_features test_curation test_rrg
tsan: deps
	$(CMAKE) -S . -B $(TSAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCHEXGEN_TSAN=ON
	$(CMAKE) --build $(TSAN) -j$(JOBS) --target $(TSAN_TESTS)
	for t in $(TSAN_TESTS); do \
	  exe=$$(find $(TSAN)/tests -name $$t -type f -executable); \
	  test -n "$$exe" || { echo "tsan: $$t was not built" >&2; exit 1; }; \
	  echo "tsan: $$t"; TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" $$exe --gtest_brief=1 || exit 1; \
	done

bench: deps
	$(CMAKE) -S . -B $(BENCH) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCHEXGEN_TESTS=OFF -DCHEXGEN_BENCH=ON
	$(CMAKE) --build $(BENCH) -j$(JOBS)

# Python packages for regenerating golden files (tests/fixtures/*.py) and for the same-machine references of the tests;
# not needed to build.
reference-deps:
	@scripts/install-deps.sh --reference

clean:
	rm -rf build out

# chexgen: the two README commands are `make demo` and `make test`.
# Every target installs missing Debian packages first (scripts/install-deps.sh, idempotent).

JOBS ?= $(shell nproc)
CMAKE ?= cmake
RELEASE := build/release
ASAN := build/asan
FUZZ := build/fuzz
BENCH := build/bench
FUZZ_SECONDS ?= 30

.PHONY: all deps build demo test unit fuzz bench reference-deps clean

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

# The whole test suite: unit and command-line tests in Debug with AddressSanitizer + UBSan, then the fuzzers briefly.
test: unit fuzz

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

bench: deps
	$(CMAKE) -S . -B $(BENCH) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCHEXGEN_TESTS=OFF -DCHEXGEN_BENCH=ON
	$(CMAKE) --build $(BENCH) -j$(JOBS)

# Python packages for regenerating golden files (tests/fixtures/*.py) and for the same-machine references of the tests;
# not needed to build.
reference-deps:
	@scripts/install-deps.sh --reference

clean:
	rm -rf build out

# npukit: the two commands of the README's Quick start.
#   make demo   installs what is missing, builds Release, runs the main job on npukit's own detector (models/detector)
#   make test   the same set-up plus test dependencies, then every test (Release, then ASan+UBSan, then the fuzzer)
# Both are idempotent: a second run only rebuilds what changed.

BUILD_DIR ?= build
SANITIZE_BUILD_DIR ?= build-sanitize
TSAN_BUILD_DIR ?= build-tsan
JOBS ?= $(shell nproc)
NPUKIT := $(BUILD_DIR)/npukit
DEMO_MODEL ?= models/detector/shapes_yolov8.onnx

.PHONY: all deps deps-test configure build demo models test test-release test-sanitize test-tsan fuzz clean

all: build

deps:
	@tools/install_dependencies.sh build

deps-test:
	@tools/install_dependencies.sh test

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	@tools/demo.sh $(NPUKIT) $(DEMO_MODEL)

# Test models (torch exports), the PP-OCRv4 models and ONNX Runtime reference outputs; cached in models/.
models: deps-test
	@tools/make_models.sh

test: deps-test build models
	@$(MAKE) --no-print-directory test-release
	@$(MAKE) --no-print-directory test-sanitize
	@$(MAKE) --no-print-directory test-tsan
	@$(MAKE) --no-print-directory fuzz

test-release:
	@echo "== tests (Release)"
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# Whole-model tests are left out here: under ASan they take too long, and they run in the Release pass above.
test-sanitize:
	@echo "== tests (AddressSanitizer + UndefinedBehaviorSanitizer)"
	@cmake -S . -B $(SANITIZE_BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNPUKIT_SANITIZE=ON >/dev/null
	@cmake --build $(SANITIZE_BUILD_DIR) -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(SANITIZE_BUILD_DIR) --output-on-failure -j $(JOBS) -E 'WholeModel'

# ThreadSanitizer on the pipeline's flow graph only (tests/pipeline: a few sources, built in a minute or two);
# tools/tsan_suppressions.txt says why each suppression is there.
test-tsan:
	@echo "== pipeline tests (ThreadSanitizer)"
	@cmake -S . -B $(TSAN_BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNPUKIT_TSAN=ON -DNPUKIT_PYTHON=OFF >/dev/null
	@cmake --build $(TSAN_BUILD_DIR) -j $(JOBS) --target npukit_pipeline_tests
	@TSAN_OPTIONS="suppressions=$(CURDIR)/tools/tsan_suppressions.txt halt_on_error=1" $(TSAN_BUILD_DIR)/npukit_pipeline_tests

fuzz:
	@echo "== fuzzing the model loader"
	@tools/run_fuzzer.sh

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_BUILD_DIR) $(TSAN_BUILD_DIR) build-fuzz

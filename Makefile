# lsgd — one entry point: all, run, test, bench, install, deps, clean.
#
#   make            build/bin/lsgd, build/lib/liblsgd.so, build/plugins/<name>.so + .json
#   make run        the quick start: MNIST MLP, 2 workers, shm, Local Adam
#   make test       the CUnit suite: CUnit's summary, then the suite's real wall time
#   make bench      speed figures and ratios (not part of the tests)
#   make fuzz       each libFuzzer harness of tests/fuzz for FUZZ_SECONDS, in build-fuzz/
#   make SAN=1 …    everything built with AddressSanitizer + UBSan, in build-san/
#   make install PREFIX=/usr/local    (also lsgd-new-plugin, the plugin scaffold)
#   make deps       only install the missing Debian packages
#
# Two stages.  First `deps` installs the missing Debian packages (as root:
# `apt-get update` once, then `apt-get install`; otherwise it names them and
# stops).  Then a sub-make reads the build proper ("Stage 2" below),
# whose build.mk files ask mpicc/pkg-config for flags: it starts only after
# deps has finished, so a fresh machine builds on the first try, and no
# build rule depends on apt or npm.  `make clean` installs nothing.

SAN     ?= 0
ifeq ($(SAN),1)
BUILD   ?= build-san
else
BUILD   ?= build
endif
PREFIX  ?= /usr/local
CC      ?= cc
VERSION := 0.1.0

WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
OPT      := -O3 -fno-math-errno -march=x86-64-v2 -mtune=native
ifeq ($(SAN),1)
# Every UBSan check gcc 12 has, any report fatal: `undefined` plus the ones it
# leaves out — float-cast-overflow (a real too large for its integer type is
# undefined behaviour), bounds-strict (flexible arrays too) — and
# pointer-overflow named explicitly.  float-divide-by-zero stays off: IEEE 754
# defines x/0 as ±Inf or NaN, and lsgd's numerics rely on that and catch
# non-finite values themselves (divergence checks).
SANITIZE := address,undefined,float-cast-overflow,bounds-strict,pointer-overflow
OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
SANLD    := -fsanitize=$(SANITIZE)
endif
CPPFLAGS := -Icore/include -Icore/src -D_GNU_SOURCE -DLSGD_VERSION='"$(VERSION)"'
CFLAGS   := -std=gnu11 -fPIC -g $(WARN) $(OPT) $(EXTRA_CFLAGS)
LDFLAGS  := $(SANLD)

# Debian packages: build, run, test.  python3-torch is only for `make bench`.
DEB_PKGS  := build-essential pkg-config libjansson-dev libzmq3-dev libcunit1-dev \
             libopenblas-dev libopenmpi-dev openmpi-bin gnuplot-nox python3 \
             python3-jsonschema python3-numpy liblinear-tools iproute2 zlib1g-dev \
             libtorch-dev
BENCH_PKGS := python3-torch
FUZZ_PKGS  := clang libclang-rt-14-dev

ifneq ($(LSGD_STAGE),build)
# Stage 1: packages, then every goal given (default `all`) in one sub-make.
GOALS      := $(or $(MAKECMDGOALS),all)
BUILD_GOALS := $(filter-out deps bench-deps fuzz-deps,$(GOALS))

.PHONY: $(GOALS) deps bench-deps fuzz-deps build-stage
$(BUILD_GOALS): build-stage ; @:
build-stage: $(if $(filter-out clean,$(BUILD_GOALS)),deps) $(if $(filter bench,$(GOALS)),bench-deps) \
             $(if $(filter fuzz,$(GOALS)),fuzz-deps)
	+@$(MAKE) --no-print-directory LSGD_STAGE=build $(BUILD_GOALS)

# missing PACKAGES…: those of PACKAGES that dpkg does not have installed.
missing = installed=" $$(dpkg-query -W -f='$${Package} $${db:Status-Status}\n' $(1) 2>/dev/null | \
	    awk '$$2 == "installed" { printf "%s ", $$1 }')"; \
	  missing=""; for p in $(1); do \
	    case "$$installed" in *" $$p "*) ;; *) missing="$$missing $$p" ;; esac; \
	  done

deps:
	@$(call missing,$(DEB_PKGS)); \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "lsgd: installing Debian packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || \
	      { echo "lsgd: apt-get install$$missing failed" >&2; exit 1; }; \
	  else echo "lsgd: missing Debian packages:$$missing (run make as root, or: sudo apt-get install$$missing)" >&2; exit 2; fi; \
	fi

bench-deps: deps
	@$(call missing,$(BENCH_PKGS)); \
	[ -z "$$missing" ] || { [ "$$(id -u)" = 0 ] && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; } || \
	  echo "lsgd: $(BENCH_PKGS) missing; PyTorch columns of the benchmarks will be skipped"

fuzz-deps: deps
	@$(call missing,$(FUZZ_PKGS)); \
	[ -z "$$missing" ] || { [ "$$(id -u)" = 0 ] && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; } || \
	  { echo "lsgd: make fuzz needs$$missing (run make as root, or: sudo apt-get install$$missing)" >&2; exit 2; }

else
# Stage 2: the build proper, run by stage 1 once the packages are there.

CORE_SRC  := $(filter-out core/src/cli/%,$(shell find core/src -name '*.c' | sort))
CLI_SRC   := $(shell find core/src/cli -name '*.c' | sort)
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
CORE_LIBS := -ljansson -lopenblas -lz -ldl -lpthread -lm -lrt

# Plugins: plugins/<name>/ and transports/<name>/, each with its manifest
# <name>.json; every <dir>/*.c is built into <name>.so (a plugin may be split
# by concern, like transports/zmq), rebuilt when any of its .c or .h files or
# the SDK headers change.  An optional <dir>/build.mk may set <name>_CFLAGS
# and <name>_LIBS (e.g. zmq, mpi), and <name>_CC with <name>_BASE (the flags
# instead of PLUGIN_CFLAGS) for a plugin in C++ (its *.cpp: torchscript).
PLUGIN_DIRS := $(sort $(dir $(wildcard plugins/*/*.json transports/*/*.json)))
PLUGIN_NAMES := $(foreach d,$(PLUGIN_DIRS),$(notdir $(patsubst %/,%,$(d))))
PLUGIN_SO   := $(PLUGIN_NAMES:%=$(BUILD)/plugins/%.so)
PLUGIN_JSON := $(PLUGIN_NAMES:%=$(BUILD)/plugins/%.json)
-include $(wildcard plugins/*/build.mk transports/*/build.mk)
PLUGIN_CFLAGS := -std=gnu11 -fPIC -g -shared -fvisibility=hidden $(WARN) $(OPT) -Icore/include

TEST_SRC := $(sort $(wildcard tests/unit/*.c))
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)

# Benchmarks: tools/benchmarks/<name>.c → build/bench/<name>, linked with liblsgd.
BENCH_SRC := $(sort $(wildcard tools/benchmarks/*.c))
BENCH_BIN := $(BENCH_SRC:tools/benchmarks/%.c=$(BUILD)/bench/%)

LIB := $(BUILD)/lib/liblsgd.so
BIN := $(BUILD)/bin/lsgd
NETLAB_DELAY := $(BUILD)/bin/lsgd-netlab-delay

.PHONY: all plugins run test bench fuzz install clean
all: $(BIN) $(LIB) plugins $(NETLAB_DELAY)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# The host checks configs and manifests against schemas/*.schema.json,
# embedded into liblsgd by core/src/host/schema_text.c (.incbin): rebuild
# that object whenever a schema changes.
$(BUILD)/obj/core/src/host/schema_text.o: schemas/config.schema.json schemas/manifest.schema.json \
                                          schemas/sweep.schema.json

$(LIB): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $^ $(LDFLAGS) $(CORE_LIBS) -Wl,-soname,liblsgd.so

$(BIN): $(CLI_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(CLI_OBJ) $(LDFLAGS) -L$(BUILD)/lib -llsgd -ljansson -lm -Wl,-rpath,'$$ORIGIN/../lib'

plugins: $(PLUGIN_SO) $(PLUGIN_JSON)

# tools/netlab's link delay, for kernels without the netem qdisc
$(NETLAB_DELAY): tools/netlab-delay.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS)

define plugin_rule
$(BUILD)/plugins/$(2).so: $(wildcard $(1)*.c $(1)*.cpp $(1)*.h) core/include/lsgd/*.h
	@mkdir -p $$(dir $$@)
	$$(or $$($(2)_CC),$$(CC)) $$(or $$($(2)_BASE),$$(PLUGIN_CFLAGS)) $$($(2)_CFLAGS) -o $$@ $(wildcard $(1)*.c $(1)*.cpp) $$(LDFLAGS) $$($(2)_LIBS) -lm
$(BUILD)/plugins/$(2).json: $(1)$(2).json
	@mkdir -p $$(dir $$@)
	cp $$< $$@
endef
$(foreach d,$(PLUGIN_DIRS),$(eval $(call plugin_rule,$(d),$(notdir $(patsubst %/,%,$(d))))))

$(BUILD)/tests/unit_tests: $(TEST_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(TEST_OBJ) $(LDFLAGS) -L$(BUILD)/lib -llsgd -lcunit -ljansson -lopenblas -ldl -lpthread -lm -Wl,-rpath,'$$ORIGIN/../lib'

$(BUILD)/bench/%: tools/benchmarks/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS) -L$(BUILD)/lib -llsgd -ljansson -lopenblas -ldl -lpthread -lm -lrt -Wl,-rpath,'$$ORIGIN/../lib'

# The suite: CUnit, one binary, every tests/unit/*.c.  TESTS=suite[,suite]
# runs a subset.  Tests find the build through LSGD_BUILD.  The last line is
# the real wall time of the suite: CUnit's "Elapsed time" in its summary is
# the CPU time of its own process, without the programs the tests start.
test: all $(BUILD)/tests/unit_tests
	@$(if $(findstring s,$(firstword -$(MAKEFLAGS))),,echo "LSGD_BUILD=$(abspath $(BUILD)) LSGD_ROOT=$(CURDIR) $(BUILD)/tests/unit_tests $(TESTS)";) \
	start=$$(date +%s.%N); status=0; \
	LSGD_BUILD=$(abspath $(BUILD)) LSGD_ROOT=$(CURDIR) $(BUILD)/tests/unit_tests $(TESTS) || status=$$?; \
	wall=$$(awk -v s=$$start -v e=$$(date +%s.%N) 'BEGIN { printf "%.1f", e - s }'); \
	echo "make test: wall time $$wall s for the whole suite (CUnit's Elapsed time above is its own CPU time)"; \
	exit $$status

run: all
	tools/fetch-data mnist
	$(BIN) run examples/quickstart.json --force

bench: all $(BENCH_BIN)
	LSGD_BUILD=$(abspath $(BUILD)) LSGD_ROOT=$(CURDIR) tools/bench $(or $(AREA),all)

# Fuzzing: tests/fuzz/<harness>.c, libFuzzer with ASan + UBSan (clang), each
# linked with the core sources built apart in build-fuzz/ (the helpers
# fuzz.c and data.c are shared, not harnesses; the zmq transport's pure
# frame and rendezvous decoders are linked in for the zmq_* harnesses).
# `make fuzz FUZZ_SECONDS=N` runs every harness N seconds (FUZZ=config,idx:
# some only), printing executions, coverage and crashes; it fails naming the
# reproducer of a crash.  Stage 1 installs FUZZ_PKGS (fuzz-deps) first.
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := build-fuzz
FUZZ_CC      := clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
# clang 14 links no cross-file call to a target_clones function: one version here
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -fno-omit-frame-pointer $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
                '-Dtarget_clones(...)=unused'
FUZZ_SHARED  := tests/fuzz/fuzz.c tests/fuzz/data.c
FUZZ_NAMES   := $(filter-out $(basename $(notdir $(FUZZ_SHARED))),$(basename $(notdir $(wildcard tests/fuzz/*.c))))
FUZZ_WIRE    := transports/zmq/frame.c transports/zmq/handshake.c
FUZZ_OBJ     := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(CORE_SRC) $(FUZZ_SHARED) $(FUZZ_WIRE))
FUZZ_MAIN    := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/obj/tests/fuzz/%.o)
FUZZ_BIN     := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz/%)
FUZZ_JSON    := $(PLUGIN_NAMES:%=$(FUZZ_BUILD)/plugins/%.json)
comma        := ,

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -Itests/fuzz -Itransports/zmq $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/obj/core/src/host/schema_text.o: schemas/config.schema.json schemas/manifest.schema.json

.SECONDARY: $(FUZZ_MAIN) $(FUZZ_OBJ)
$(FUZZ_BUILD)/fuzz/%: $(FUZZ_BUILD)/obj/tests/fuzz/%.o $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(CORE_LIBS)

# the manifests only, as the built-in plugins: discovery and params need no .so
fuzz_manifest = $(FUZZ_BUILD)/plugins/$(2).json: $(1)$(2).json ; @mkdir -p $$(@D) && cp $$< $$@
$(foreach d,$(PLUGIN_DIRS),$(eval $(call fuzz_manifest,$(d),$(notdir $(patsubst %/,%,$(d))))))

fuzz: $(FUZZ_BIN) $(FUZZ_JSON)
	tests/fuzz/run $(FUZZ_BUILD) $(FUZZ_SECONDS) $(if $(FUZZ),$(subst $(comma), ,$(FUZZ)),$(FUZZ_NAMES))

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/lsgd/plugins \
	  $(DESTDIR)$(PREFIX)/include/lsgd $(DESTDIR)$(PREFIX)/share/lsgd/schemas \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/
	install -m 755 tools/new-plugin $(DESTDIR)$(PREFIX)/bin/lsgd-new-plugin
	install -m 644 $(PLUGIN_SO) $(PLUGIN_JSON) $(DESTDIR)$(PREFIX)/lib/lsgd/plugins/
	install -m 644 core/include/lsgd/*.h $(DESTDIR)$(PREFIX)/include/lsgd/
	install -m 644 schemas/*.json $(DESTDIR)$(PREFIX)/share/lsgd/schemas/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' tools/lsgd.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/lsgd.pc

clean:
	rm -rf $(BUILD)

-include $(CORE_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d) $(FUZZ_MAIN:.o=.d)
endif

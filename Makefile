# kept — one Makefile for building, running and testing.
#
#   make            keptd and kept in build/; offline: installs nothing, fetches nothing
#   make deps       install everything any target needs (Debian packages, npm lockfiles); the
#                   only target that reaches a registry (make deps-GROUP: one group, see deps.sh)
#   make run        install what is missing, start PostgreSQL, keptd; print URL and admin key
#   make test       install what the tests need, then every test (also under ASan/UBSan)
#   make offline-check  a clean build with no network (unshare -n), as make test runs it
#   make asan       the AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/
#   make valgrind   the integration suite under valgrind (no memory errors, nothing definitely lost)
#   make fuzz       each libFuzzer target for FUZZ_SECONDS
#   make bench      the benchmarks; make soak: the peer comparison, the ten-minute soak and ha-test
#   make ha-test    failover and switchover of a Patroni-managed primary and synchronous standby
#   make format     clang-format the C sources (format-check only checks)
#   make lint       clang-tidy and cppcheck
.DEFAULT_GOAL := all
SHELL := /bin/bash

BUILD ?= build
PG_BINDIR ?= /usr/lib/postgresql/15/bin
PKGS := libpq libmicrohttpd libcurl libcjson libcrypto
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

STD := -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L
# Declarative tables ({"name", JSON_STRING, JSON_REQUIRED, .max = 64}) rely on
# C's zero-filling of members left out, so that one -Wextra warning is off.
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
        -fno-common -Wvla -Wpointer-arith -Wno-missing-field-initializers
ifeq ($(SANITIZE),1)
  OPT := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDOPT := -fsanitize=address,undefined
else ifeq ($(SANITIZE),fuzz)
  OPT := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDOPT := -fsanitize=address,undefined
else
  OPT := -O2 -g -D_FORTIFY_SOURCE=2
  LDOPT :=
endif
HARDEN := -fstack-protector-strong -fPIE
LDHARDEN := -pie -Wl,-z,relro,-z,now
CPPFLAGS_KEPT = -Iservice/src -I$(BUILD)/gen $(PKG_CFLAGS)
CFLAGS_KEPT = $(STD) $(WARN) $(OPT) $(HARDEN) $(CPPFLAGS_KEPT) -MMD -MP $(CFLAGS)
LDFLAGS_KEPT = $(LDOPT) $(LDHARDEN) $(LDFLAGS)

MIGRATIONS := $(sort $(wildcard schema/*.sql))
FUNCTIONS := $(sort $(wildcard sql/functions/*.sql))
QUERIES := $(sort $(wildcard sql/queries/*.sql))
REPORTS := $(sort $(wildcard sql/reports/*.sql))
# North American numbers' time zones, generated from libphonenumber's data as Debian packages it
PHONE_ZONES := $(BUILD)/gen/phone_zones.sql
PHONE_ZONE_DATA := $(wildcard /usr/lib/python3/dist-packages/phonenumbers/tzdata/*.py)

SERVICE_SRC := $(sort $(shell find service/src -name '*.c' ! -name main.c))
SERVICE_OBJ := $(SERVICE_SRC:service/src/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/sql_bundle.o \
               $(BUILD)/obj/gen/db_queries.o $(BUILD)/obj/gen/assets.o
# The dashboard: our page and script, and Chart.js from Debian's libjs-chart.js (its UMD
# build; licence in /usr/share/doc/libjs-chart.js/copyright), embedded into keptd.
CHARTJS := /usr/share/javascript/chart.js/chart.min.js
ASSETS := /dashboard=clients/dashboard/index.html:text/html;charset=utf-8 \
          /dashboard/dashboard.js=clients/dashboard/dashboard.js:text/javascript;charset=utf-8 \
          /dashboard/chart.umd.js=$(CHARTJS):text/javascript;charset=utf-8 \
          /dashboard/favicon.svg=clients/dashboard/favicon.svg:image/svg+xml \
          /self-service/style.css=clients/selfservice/style.css:text/css;charset=utf-8
CLI_SRC := $(sort $(wildcard clients/kept/*.c))
CLI_OBJ := $(CLI_SRC:clients/kept/%.c=$(BUILD)/obj/cli/%.o)
TELSIM_SRC := $(sort $(wildcard service/telsim/*.c))
TELSIM_OBJ := $(TELSIM_SRC:service/telsim/%.c=$(BUILD)/obj/telsim/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: valgrind soak ha-test fuzz fuzz-build fuzz-short demo all deps deps-check deps-build deps-run deps-test deps-lint \
        deps-bench run test unit sql-test integration openapi-lint compose-check asan test-asan bench format format-check \
        lint clean offline-check layout-check ha-collect

all: deps-check $(BUILD)/keptd $(BUILD)/kept $(BUILD)/kept-telsim $(BUILD)/tests/sign

# `make deps` installs; everything else only uses what is installed.
deps: deps-all
deps-all deps-build deps-run deps-test deps-lint deps-bench deps-fuzz deps-valgrind deps-ha: deps-%:
	@service/scripts/deps.sh $*

# Cheap (no package database, no network): fails naming `make deps` when a build input is missing.
deps-check:
	@CC='$(CC)' CHARTJS='$(CHARTJS)' service/scripts/deps.sh check

# ---- generated SQL bundle -----------------------------------------------------------

$(BUILD)/tools/sqlgen: service/tools/sqlgen.c | deps-check
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -Wall -Wextra -Werror -o $@ $<

$(PHONE_ZONES): service/tools/phonezones.py $(PHONE_ZONE_DATA) | deps-check
	@mkdir -p $(@D)
	/usr/bin/python3 service/tools/phonezones.py >$@.tmp && mv $@.tmp $@

$(BUILD)/gen/sql_bundle.c $(BUILD)/gen/sql_bundle.h $(BUILD)/gen/db_queries.c $(BUILD)/gen/db_queries.h &: $(BUILD)/tools/sqlgen $(MIGRATIONS) $(FUNCTIONS) $(PHONE_ZONES) \
                                                      $(QUERIES) $(REPORTS)
	@mkdir -p $(BUILD)/gen
	$(BUILD)/tools/sqlgen $(BUILD)/gen --migrations $(MIGRATIONS) --functions $(FUNCTIONS) $(PHONE_ZONES) \
	    --queries $(QUERIES) --reports $(REPORTS)

$(BUILD)/tools/assetgen: service/tools/assetgen.c | deps-check
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/gen/assets.c: $(BUILD)/tools/assetgen $(wildcard clients/dashboard/*.html clients/dashboard/*.js \
                       clients/dashboard/*.svg clients/selfservice/*.css) $(CHARTJS)
	@mkdir -p $(BUILD)/gen
	$(BUILD)/tools/assetgen $@ $(foreach a,$(ASSETS),'$(a)')

$(BUILD)/obj/gen/assets.o: $(BUILD)/gen/assets.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_KEPT) -c -o $@ $<

# ---- objects and binaries -----------------------------------------------------------------

$(BUILD)/obj/gen/sql_bundle.o: $(BUILD)/gen/sql_bundle.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_KEPT) -c -o $@ $<

$(BUILD)/obj/gen/db_queries.o: $(BUILD)/gen/db_queries.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_KEPT) -c -o $@ $<

$(BUILD)/obj/%.o: service/src/%.c | $(BUILD)/gen/sql_bundle.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_KEPT) -c -o $@ $<

$(BUILD)/obj/cli/%.o: clients/kept/%.c | deps-check
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_KEPT) -Iclients/kept -c -o $@ $<

$(BUILD)/obj/telsim/%.o: service/telsim/%.c | $(BUILD)/gen/sql_bundle.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_KEPT) -Iservice/telsim -c -o $@ $<

$(BUILD)/libkeptd.a: $(SERVICE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/keptd: $(BUILD)/obj/main.o $(BUILD)/libkeptd.a
	$(CC) $(LDFLAGS_KEPT) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/kept: $(CLI_OBJ) $(BUILD)/libkeptd.a
	$(CC) $(LDFLAGS_KEPT) -o $@ $^ $(PKG_LIBS)

$(BUILD)/kept-telsim: $(TELSIM_OBJ) $(BUILD)/libkeptd.a
	$(CC) $(LDFLAGS_KEPT) -o $@ $^ $(PKG_LIBS) -lpthread

# the signature as a filter, for the differential test against python3-twilio
$(BUILD)/tests/sign: tests/tools/sign.c $(BUILD)/libkeptd.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_KEPT) $(LDFLAGS_KEPT) -o $@ $< $(BUILD)/libkeptd.a $(PKG_LIBS)

# the kept client's own modules (money, times), tested apart from keptd
$(BUILD)/tests/test_cli_output: tests/unit/test_cli_output.c $(BUILD)/obj/cli/output.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_KEPT) -Iclients/kept $(LDFLAGS_KEPT) -o $@ $< $(BUILD)/obj/cli/output.o -lcmocka

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libkeptd.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_KEPT) $(LDFLAGS_KEPT) -o $@ $< $(BUILD)/libkeptd.a $(PKG_LIBS) -lcmocka -lpthread

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- running -------------------------------------------------------------------------------------

run: deps-run all
	@BUILD=$(BUILD) PG_BINDIR=$(PG_BINDIR) service/scripts/run.sh

# A year of realistic history, through the API of the kept that `make run` started.
demo: deps-run
	@/usr/bin/python3 service/scripts/demo.py

# ---- tests ------------------------------------------------------------------------------------------

test: deps-test
	$(MAKE) --no-print-directory all offline-check
	$(MAKE) --no-print-directory layout-check format-check lint unit sql-test integration ha-collect openapi-lint \
	    compose-check
	$(MAKE) --no-print-directory test-asan fuzz-short
	@echo "kept: all tests passed"

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

sql-test: all
	PG_BINDIR=$(PG_BINDIR) KEPT_BIN=$(BUILD) tests/sql/run.sh

# Test files run on PYTEST_WORKERS processes at once (pytest-xdist), each file whole on one
# of them (its tests keep their order; each worker has its own cluster and servers): most
# of the suite waits on timers, processes and the network rather than the CPU.
# PYTEST_WORKERS=1 runs them one after another.
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL := $(if $(filter-out 0 1,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist loadfile)

integration: all
	cd tests/integration && PG_BINDIR=$(PG_BINDIR) KEPT_BIN=$(CURDIR)/$(BUILD) \
	    /usr/bin/python3 -m pytest -q -p no:cacheprovider $(PYTEST_PARALLEL) $(PYTEST_ARGS)

openapi-lint:
	tests/openapi/lint.sh

# Tests beside the logic: a pgTAP file per sql/functions file, a unit test per module (or
# README's unit-exceptions), no pytest module importing another.
layout-check:
	tests/layout.sh

compose-check:
	docker-compose -f docker-compose.yml config -q
	@echo "docker-compose.yml: valid"

asan:
	$(MAKE) --no-print-directory BUILD=build-asan SANITIZE=1 all

# The unit and integration suites against the sanitizer build. Leak checking
# is on; the suppressions cover allocations libraries keep until exit.
test-asan: asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    $(MAKE) --no-print-directory BUILD=build-asan SANITIZE=1 unit integration

# The integration suite with every keptd, kept and kept-telsim under valgrind's
# memcheck: no memory error and no "definitely lost" byte in any process. Not
# part of `make test` (it takes as long as the rest together); LeakSanitizer
# checks leaks there.
valgrind: deps-valgrind all
	PG_BINDIR=$(PG_BINDIR) KEPT_BIN=$(CURDIR)/$(BUILD) tests/integration/valgrind.sh $(PYTEST_ARGS)

# ---- fuzzing ----------------------------------------------------------------------------------

# libFuzzer targets (tests/fuzz/): JSON decoding and validation, webhook forms
# and signatures, CSV imports, the router. `make fuzz` runs each for
# FUZZ_SECONDS; `make test` runs a short pass of each.
FUZZ_TARGETS := json form csv route
FUZZ_SECONDS ?= 60

fuzz-build: deps-fuzz
	$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang SANITIZE=fuzz \
	    $(FUZZ_TARGETS:%=build-fuzz/fuzz/fuzz_%)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/libkeptd.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_KEPT) -fsanitize=fuzzer -o $@ $< $(BUILD)/libkeptd.a $(PKG_LIBS) -lpthread

fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-short: fuzz-build
	tests/fuzz/run.sh 10 $(FUZZ_TARGETS)

# ---- benchmarks -----------------------------------------------------------------------------------

# Not part of `make test`: at full size it takes a while and wants the machine
# to itself. tests/bench/run.sh says what it measures and how to size it.
bench: deps-bench all
	BUILD=$(BUILD) tests/bench/run.sh

# The long runs of issue 7: the peer comparison and a ten-minute soak (tests/bench/soak.sh);
# then the failover test.
soak: deps-bench all
	BUILD=$(BUILD) tests/bench/soak.sh
	$(MAKE) --no-print-directory ha-test

# Failover (SIGKILL of the primary) and a planned switchover under load, on a
# Patroni-managed primary and synchronous standby with etcd, all on loopback
# (tests/ha/). Not part of `make test`: it needs Patroni and takes a few minutes.
ha-test: deps-ha all
	cd tests/ha && PG_BINDIR=$(PG_BINDIR) KEPT_BIN=$(CURDIR)/$(BUILD) \
	    /usr/bin/python3 -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# What `make test` holds of them: that they still load beside the integration suite
# they borrow from (it runs none).
ha-collect:
	cd tests/ha && /usr/bin/python3 -m pytest -q -p no:cacheprovider --collect-only >/dev/null

# ---- style ---------------------------------------------------------------------------------------------

C_FILES = $(shell find service clients tests/unit tests/tools tests/fuzz -name '*.c' -o -name '*.h' | sort)

format: deps-lint
	clang-format -i $(C_FILES)

format-check: deps-lint
	clang-format --dry-run --Werror $(C_FILES)

lint: deps-lint all
	clang-tidy --quiet $(SERVICE_SRC) service/src/main.c $(CLI_SRC) $(TELSIM_SRC) -- $(STD) $(CPPFLAGS_KEPT) \
	    -Iclients/kept -Iservice/telsim
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --inline-suppr \
	    --std=c11 -Iservice/src -I$(BUILD)/gen --suppress=missingIncludeSystem service/src service/telsim clients/kept

# ---- the offline build ---------------------------------------------------------------------

# After `make deps`, a clean build reaches no network: `make all` into build-offline/ inside a
# network namespace of its own (unshare; root, or unprivileged user namespaces). make test runs it.
offline-check:
	@rm -rf build-offline
	unshare $(if $(filter 0,$(shell id -u)),,--map-root-user) --net $(MAKE) --no-print-directory BUILD=build-offline all
	@rm -rf build-offline
	@echo "kept: a clean build with no network succeeded"

clean:
	rm -rf build build-asan build-fuzz build-offline

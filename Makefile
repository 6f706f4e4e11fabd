# Bulwark -- a plain Makefile: `make`, `make test`, `make run`, `make bench`.
#
#   make               build build/bulwark
#   make test          install what is missing, build, run every test, tear down
#   make test SANITIZE=1   the same under AddressSanitizer + UBSan
#   make run           serve the API on http://localhost:3000 (Ctrl-C stops it)
#   make reset         wipe make run's data: the next make run starts empty
#   make bench         wrk through lighttpd; FRONT=nginx, PEER=node (docs/PERFORMANCE.md)
#   make fuzz [FUZZ_SECONDS=N]  each libFuzzer driver of tests/fuzz for N s
#   make scan          sqlmap against every route that takes input
#   make memcheck      integration tests with the workers under valgrind

PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
PKGS      = libpq json-c libssl libcrypto libxcrypt libseccomp
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN     = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wvla
CFLAGS  ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -D_FORTIFY_SOURCE=2
HARDEN   = -fstack-protector-strong -fPIE
LDHARDEN = -pie -Wl,-z,relro,-z,now

ifeq ($(SANITIZE),1)
BUILD   ?= build/san
CFLAGS  := -O1 -g -fno-omit-frame-pointer
SAN      = -fsanitize=address,undefined -fno-sanitize-recover=undefined
CPPFLAGS := $(filter-out -D_FORTIFY_SOURCE=2,$(CPPFLAGS))
else
BUILD   ?= build
SAN      =
endif
# make fuzz builds the program's objects with clang for libFuzzer too.
ifeq ($(FUZZ),1)
SAN     += -fsanitize=fuzzer-no-link
endif

# core/ is built without the flags of libpq, json-c and libfcgi (see
# `make check-layers` and the layout table in the README).
CORE_PKGS  = libssl libcrypto libxcrypt
CORE_PKG_CFLAGS := $(shell pkg-config --cflags $(CORE_PKGS) 2>/dev/null)
BASE_CFLAGS = -std=c11 $(CPPFLAGS) $(CFLAGS) $(WARN) $(HARDEN) $(SAN) \
              -MMD -MP -I fcgi -I $(BUILD)
ALL_CFLAGS  = $(BASE_CFLAGS) $(PKG_CFLAGS)
LIBS        = -lfcgi $(PKG_LIBS)

# The program in layers: fcgi/<layer>/*.c -> $(BUILD)/obj/<layer>/*.o.
LAYERS  = core http db auth mail guard routes cmd
SRCS    = $(foreach l,$(LAYERS),$(wildcard fcgi/$(l)/*.c))
OBJS    = $(patsubst fcgi/%.c,$(BUILD)/obj/%.o,$(SRCS)) $(BUILD)/obj/sql_gen.o
LIBOBJS = $(filter-out $(BUILD)/obj/cmd/main.o,$(OBJS))
SQL     = $(sort $(wildcard sql/*.sql))
COLS    = $(sort $(wildcard sql/*.cols))
SCHEMA  = $(sort $(wildcard schema/*.sql))
# Unit tests mirror the source tree: tests/unit/<layer>/test_*.c.
UNIT_SRCS = $(wildcard tests/unit/*/test_*.c)
UNIT_BINS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

# Debian 12 packages: to build, to run, to test and to measure.
DEB_BUILD = build-essential pkg-config libfcgi-dev libpq-dev libssl-dev \
            libjson-c-dev libcrypt-dev libseccomp-dev
DEB_RUN   = postgresql-15 postgresql-client-15 lighttpd spawn-fcgi libfcgi-bin \
            perl curl procps man-db groff-base oathtool \
            apache2 libapache2-mod-fcgid nginx openssl systemd
DEB_BENCH = wrk nginx
# The browser test (58_browser.t) and the OpenAPI check (96_openapi.t).
DEB_TEST  = chromium chromium-driver python3-selenium python3-jsonschema
# Only for make fuzz, make scan and make memcheck (not for make test).
DEB_FUZZ  = clang-14 libclang-rt-14-dev
DEB_SCAN  = sqlmap
DEB_MEMCHECK = valgrind

# tests/fuzz: one libFuzzer driver per parser of untrusted bytes.
FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_DRIVERS  = $(sort $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BINS     = $(patsubst %,$(BUILD)/fuzz/%,$(FUZZ_DRIVERS))
FUZZ_REGRESS_BINS = $(patsubst %,$(BUILD)/fuzz-regress/%,$(FUZZ_DRIVERS))

.PHONY: all deps test unit run reset bench clean install install-files check-layers \
        fuzz fuzz-bins fuzz-regress scan memcheck

all: $(BUILD)/bulwark

$(BUILD)/bulwark: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDHARDEN) -o $@ $(OBJS) $(LIBS)

$(BUILD)/sql_gen.h: tools/embed.pl $(SQL) $(COLS)
	@mkdir -p $(@D)
	perl tools/embed.pl header $(COLS) $(SQL) > $@.tmp && mv $@.tmp $@

$(BUILD)/sql_gen.c: tools/embed.pl $(SQL) $(COLS) $(SCHEMA)
	@mkdir -p $(@D)
	perl tools/embed.pl source $(COLS) $(SQL) -- $(SCHEMA) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/sql_gen.o: $(BUILD)/sql_gen.c | $(BUILD)/sql_gen.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Every object waits for sql_gen.h (order-only: it exists before the first
# compile); after that the compiler's own -MMD lists say what each uses.
$(BUILD)/obj/core/%.o: fcgi/core/%.c | $(BUILD)/sql_gen.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CORE_PKG_CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: fcgi/%.c | $(BUILD)/sql_gen.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIBOBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -I tests/unit $(LDHARDEN) -o $@ $< $(LIBOBJS) $(LIBS)

# A fuzz driver, with libFuzzer (clang) or with regress_main.c (any cc).
$(BUILD)/fuzz/%: tests/fuzz/fuzz_%.c $(LIBOBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -I tests/fuzz $(LDHARDEN) -o $@ $< $(LIBOBJS) $(LIBS)

$(BUILD)/fuzz-regress/%: tests/fuzz/fuzz_%.c tests/fuzz/regress_main.c $(LIBOBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -I tests/fuzz $(LDHARDEN) -o $@ $< tests/fuzz/regress_main.c $(LIBOBJS) $(LIBS)

-include $(OBJS:.o=.d) $(UNIT_BINS:=.d) $(FUZZ_BINS:=.d) $(FUZZ_REGRESS_BINS:=.d)

# Fails when a file under fcgi/ includes a header of a layer above its own
# (or a library its layer may not use); checks itself first.
check-layers:
	perl tools/check-layers.pl --self-test
	perl tools/check-layers.pl fcgi

# Installs the Debian packages that are missing (as root), or prints the
# one apt-get line to run.
deps:
	@missing=""; for p in $(DEB_BUILD) $(DEB_RUN) $(DEB_TEST) $(DEB_BENCH) $(DEB_EXTRA); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' \
	    || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	      || exit 1; \
	  else \
	    echo "missing Debian packages; run:"; \
	    echo "  sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

unit: $(UNIT_BINS)

test: deps
	$(MAKE) check-layers
	$(MAKE) all unit
	$(MAKE) SANITIZE=1 fuzz-regress
	BULWARK_BIN=$(BUILD)/bulwark UNIT_TESTS="$(UNIT_BINS)" SANITIZE=$(SANITIZE) \
	  tests/run.sh

# Every fuzz driver over its seed corpus and the inputs that once crashed
# it, built with the compiler of make test (gcc) under ASan + UBSan.
fuzz-regress: $(FUZZ_REGRESS_BINS)
	@for d in $(FUZZ_DRIVERS); do \
	  ASAN_OPTIONS=detect_leaks=1 $(BUILD)/fuzz-regress/$$d \
	    tests/fuzz/corpus/$$d tests/fuzz/regress/$$d || exit 1; \
	done

# make fuzz FUZZ_SECONDS=N: each driver for N seconds (clang, libFuzzer,
# ASan + UBSan); fails on the first crash and keeps its input in
# build/fuzz/crash/<driver>/ (copy it to tests/fuzz/regress/<driver>/).
fuzz:
	$(MAKE) deps DEB_EXTRA="$(DEB_FUZZ)"
	$(MAKE) BUILD=build/fuzz CC=$(FUZZ_CC) SANITIZE=1 FUZZ=1 fuzz-bins
	tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_DRIVERS)

fuzz-bins: $(FUZZ_BINS)

# make scan: sqlmap (--level 5 --risk 3, PostgreSQL payloads) against every
# route that takes input, through lighttpd, on a throwaway cluster.
scan:
	$(MAKE) deps DEB_EXTRA="$(DEB_SCAN)"
	$(MAKE) all
	BULWARK_BIN=$(BUILD)/bulwark tests/run.sh tests/scan/sqlmap.t

# make memcheck [MEMCHECK_TESTS="tests/integration/03_login.t ..."]: the
# integration tests with every Bulwark process under valgrind memcheck;
# fails on any memory error or a byte definitely lost.
memcheck:
	$(MAKE) deps DEB_EXTRA="$(DEB_MEMCHECK)"
	$(MAKE) all
	tests/memcheck/run.sh $(BUILD)/bulwark $(MEMCHECK_TESTS)

# make run: quiet build, then deploy/dev-run.sh (its header lists what it
# honours: PORT, BIND, WORKERS, DATABASE_URL and every BULWARK_* key).
run: deps
	@echo "make run: building $(BUILD)/bulwark"
	@$(MAKE) -s --no-print-directory all
	@BULWARK_BIN=$(BUILD)/bulwark deploy/dev-run.sh

# make reset: wipes make run's data (the development cluster, mail, logs).
reset:
	@deploy/dev-run.sh --reset

bench: deps
	$(if $(filter 1,$(SANITIZE)),$(error make bench measures the optimised build: drop SANITIZE=1))
	$(MAKE) all
	BULWARK_BIN=$(BUILD)/bulwark CC="$(CC)" tests/bench/run.sh

# make install [PREFIX=/usr] [DESTDIR=/tmp/stage]: the program, its man
# page, and the deployment examples.  The schema and the SQL are compiled
# in.  install-files copies what is built without building it.
SHAREDIR ?= $(PREFIX)/share
MANDIR   ?= $(SHAREDIR)/man
DEPLOY_EXAMPLES = deploy/lighttpd.conf deploy/lighttpd-binpath.conf \
                  deploy/nginx.conf deploy/apache-fcgid.conf \
                  deploy/bulwark.service deploy/bulwark.socket \
                  deploy/bulwark.conf.example
SHARED_HOSTING  = deploy/shared-hosting/.htaccess \
                  deploy/shared-hosting/bulwark.conf.example

install: all
	$(MAKE) install-files

install-files:
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(SHAREDIR)/bulwark/deploy
	install -m 0755 $(BUILD)/bulwark $(DESTDIR)$(PREFIX)/bin/bulwark
	install -m 0644 docs/bulwark.8 $(DESTDIR)$(MANDIR)/man8/bulwark.8
	install -m 0644 $(DEPLOY_EXAMPLES) $(DESTDIR)$(SHAREDIR)/bulwark/deploy/
	install -d $(DESTDIR)$(SHAREDIR)/bulwark/deploy/shared-hosting
	install -m 0644 $(SHARED_HOSTING) $(DESTDIR)$(SHAREDIR)/bulwark/deploy/shared-hosting/
	install -m 0755 deploy/shared-hosting/bulwark.fcgi \
	    $(DESTDIR)$(SHAREDIR)/bulwark/deploy/shared-hosting/

clean:
	rm -rf build

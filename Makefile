# tocsin — one non-recursive GNU make file.  See README.md for the targets.
# Sources are discovered by directory: a new module is a new file, never a
# Makefile edit (src/lib/*.c, tests/unit/test_*.c, tests/fuzz/fuzz_*.c).

BUILD   ?= build
CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=

PKGS     = libuv libpq yaml-0.1 gpgme libesmtp-1.0 jansson libcurl libidn2 openssl
OPT     ?= -O2 -g
HARDEN  ?= -D_FORTIFY_SOURCE=2 -fstack-protector-strong
SAN     ?=
WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wformat=2 -Wvla
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  += -std=c11 -D_GNU_SOURCE -fPIE $(OPT) $(HARDEN) $(SAN) $(WARN) \
	   -Iinclude $(PKG_CFLAGS) -MMD -MP
LDFLAGS += -pie -Wl,-z,relro,-z,now $(SAN)
LDLIBS  += $(PKG_LIBS) -lm -lpthread
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

ifeq ($(V),1)
Q =
else
Q = @
endif

LIB_SRC    = $(wildcard src/lib/*.c)
LIB_OBJ    = $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/schema.o
SCHEMA     = $(sort $(wildcard schema/*.sql))
LIB        = $(BUILD)/libtocsin.a
D_SRC      = $(wildcard src/tocsind/*.c)
D_OBJ      = $(D_SRC:%.c=$(BUILD)/%.o)
CTL_SRC    = $(wildcard src/tocsinctl/*.c)
CTL_OBJ    = $(CTL_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC   = $(wildcard tests/unit/test_*.c)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_HELP  = $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
UNIT_HOBJ  = $(UNIT_HELP:%.c=$(BUILD)/%.o)
FUZZ_SRC   = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%-replay)
FUZZ_BIN   = $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/fuzz/%)
BENCH_SRC  = $(wildcard bench/*.c)
BENCH_BIN  = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
PROGS      = $(BUILD)/tocsind $(BUILD)/tocsinctl

.PHONY: all deps check unit integration faults fuzz-replay fuzz asan valgrind lint \
	format demo bench install clean
.DEFAULT_GOAL := all
.SECONDARY:

all: $(PROGS) $(UNIT_BIN) $(FUZZ_REPLAY) $(BENCH_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# The migrations are embedded in the library (tc_db_migrations[]).
$(BUILD)/gen/schema.c: $(SCHEMA) tools/embed-schema.sh
	@mkdir -p $(@D)
	$(Q)tools/embed-schema.sh $(SCHEMA) >$@.tmp && mv $@.tmp $@

$(BUILD)/gen/schema.o: $(BUILD)/gen/schema.c
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/tocsind: $(D_OBJ) $(LIB)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(D_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/tocsinctl: $(CTL_OBJ) $(LIB)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CTL_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(UNIT_HOBJ) $(LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(UNIT_HOBJ) $(LIB) $(LDLIBS) $(CMOCKA_LIBS)

# Fuzz targets: the replay build links tests/fuzz/replay.c as main() and runs
# every file of corpus/ and repro/ through the target with any compiler.
$(BUILD)/fuzz/%-replay: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/replay.o $(LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/tests/fuzz/replay.o $(LIB) $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

deps:
	$(Q)tests/deps.sh

unit: $(UNIT_BIN)
	$(Q)tests/run-unit.sh $(BUILD) $(UNIT_BIN)

integration: $(PROGS)
	$(Q)BUILD=$(BUILD) tests/integration/run.sh

# Fault, load and abuse suite (tests/faults/; FAULTS_FULL=1: full sizes).
faults: $(PROGS)
	$(Q)BUILD=$(BUILD) tests/faults/run.sh

fuzz-replay: $(FUZZ_REPLAY)
	$(Q)tests/fuzz/replay.sh $(BUILD) $(FUZZ_REPLAY)

# Short coverage-guided run of every target (clang + libFuzzer).
FUZZ_SECONDS ?= 10
fuzz:
	$(Q)$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
	    OPT='-O1 -g' HARDEN= \
	    SAN='-fsanitize=fuzzer-no-link,address,undefined' fuzz-bins
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

fuzz-bins: $(FUZZ_BIN)
build-fuzz/fuzz/%: build-fuzz/tests/fuzz/%.o $(LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(LIB) $(LDLIBS)

asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan \
	    OPT='-O1 -g -fno-omit-frame-pointer' HARDEN= \
	    SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' \
	    unit integration fuzz-replay

valgrind: $(UNIT_BIN)
	$(Q)VALGRIND=1 tests/run-unit.sh $(BUILD) $(UNIT_BIN)

lint:
	$(Q)tests/lint.sh

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

# The whole suite, as CI runs it.  tests/check.sh prints the closing
# "N passed, N failed" line.
check: deps
	$(Q)tests/check.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) demo/run.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) bench/run.sh

SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share/tocsin
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR    ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
MANPAGES    = $(wildcard src/tocsind/*.[1-8] src/tocsinctl/*.[1-8])

# Binaries, man pages, templates, schema, example config and the systemd
# unit.  The real config is never overwritten.
install: $(PROGS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(DATADIR)/schema $(DESTDIR)$(SYSCONFDIR)/tocsin \
	    $(DESTDIR)$(UNITDIR)
	install -m 755 $(BUILD)/tocsind $(DESTDIR)$(SBINDIR)/
	install -m 755 $(BUILD)/tocsinctl $(DESTDIR)$(BINDIR)/
	for m in $(MANPAGES); do \
	    s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
	    install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	if [ -d templates ]; then cp -R templates $(DESTDIR)$(DATADIR)/; fi
	install -m 644 schema/*.sql $(DESTDIR)$(DATADIR)/schema/
	sed -e 's|/usr/local/share/tocsin|$(DATADIR)|g' etc/tocsin.yaml.sample \
	    >$(DESTDIR)$(SYSCONFDIR)/tocsin/tocsin.yaml.sample
	chmod 644 $(DESTDIR)$(SYSCONFDIR)/tocsin/tocsin.yaml.sample
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    etc/tocsind.service.in >$(DESTDIR)$(UNITDIR)/tocsind.service
	chmod 644 $(DESTDIR)$(UNITDIR)/tocsind.service
	if [ -d contrib/bash-completion ]; then \
	    install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions; \
	    install -m 644 contrib/bash-completion/tocsinctl \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/; fi

clean:
	rm -rf build build-asan build-fuzz

-include $(wildcard $(BUILD)/src/*/*.d $(BUILD)/tests/*/*.d $(BUILD)/bench/*.d)

# mxguard - plain GNU make. `make` builds ./mxguard; `make check` runs every test.
#
#   make                 optimised build in build/, binary ./mxguard
#   make check           unit tests (cmocka), golden files, shell tests, fuzz targets briefly
#   make check-san       the same suite built with ASan + UBSan (build/san/)
#   make check-valgrind  golden files and shell tests under valgrind
#   make install         the daemon, its man pages, configuration, unit (PREFIX, DESTDIR)
#   make bench           bench/bench_parse.sh (needs root for the peers)
#   make fuzz            libFuzzer targets of every hostile-input parser (clang), build/fuzz/ (tests/fuzz/README.md)
#
# Every library is found through pkg-config; ./run installs what is missing.

PKGS      := libpcre2-8 zlib sqlite3 libsystemd libnftables libip4tc libip6tc libcares hiredis
# librrd: its headers only; reports/rrdlib.c loads it with dlopen when a command reports
# (linked in, its forty-odd libraries would cost every command ~13 ms at start).
DLOPEN_PKGS := librrd
TEST_PKGS := cmocka
PKG_CONFIG ?= pkg-config

BUILD   ?= build
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wformat=2 -Wno-format-nonliteral -Wvla \
           -Wno-missing-field-initializers
CPPFLAGS += -D_GNU_SOURCE -MMD -MP
STD     := -std=gnu11

# Hardening for a daemon that runs as root and reads attackers' text: bounds-checked libc
# calls, stack canaries, a position-independent executable, read-only relocations bound
# at start (cost measured in bench/RESULTS.md). Not in the sanitizer build: ASan checks
# more than _FORTIFY_SOURCE, and the two intercept the same calls.
HARDEN_CFLAGS  := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now

# Whole-program optimisation: the hot paths cross modules (a reputation lookup is feed.c
# then lpm.c; a line goes from tail/ through parsers/ to rules/), and are inlined across
# them: parse and replay 2 to 8 % faster, lookups more (bench/RESULTS.md). The library's
# objects are then GCC's intermediate code, archived with gcc-ar. (Not with clang, nor in
# the sanitizer build.)
LTO     := $(if $(shell $(CC) -dM -E -x c /dev/null 2>/dev/null | grep __clang__),,-flto=auto)
LIB_AR  := $(if $(LTO),gcc-ar,$(AR))

ifeq ($(SAN),1)
LTO     :=
LIB_AR  := $(AR)
CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
BIN     := $(BUILD)/mxguard
HARDEN_CFLAGS  :=
HARDEN_LDFLAGS :=
else
BIN     := mxguard
endif
LDFLAGS += $(HARDEN_LDFLAGS) $(LTO)

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) $(DLOPEN_PKGS) 2>/dev/null)
PKG_FOUND  := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
ifeq ($(shell $(PKG_CONFIG) --exists $(DLOPEN_PKGS) && echo y),)
$(error pkg-config cannot find $(DLOPEN_PKGS): run ./run deps (installs the Debian packages))
endif
# libinotifytools (Debian's libinotifytools0-dev) ships no pkg-config file.
PKG_LIBS   := $(PKG_FOUND) -linotifytools -lm -pthread
ifeq ($(PKG_FOUND),)
$(error pkg-config cannot find $(PKGS): run ./run deps (installs the Debian packages))
endif

LIB_SRCS  := $(wildcard common/*.c tail/*.c parsers/*.c rules/*.c state/*.c actions/*.c reports/*.c reputation/*.c cluster/*.c privsep/*.c)
CLI_SRCS  := $(wildcard cli/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
LIB       := $(BUILD)/libmxguard.a

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# Helpers the shell tests call (found in UNIT_DIR): feed_lookup answers from a parsed feed,
# dnsrep_lookup asks DNS zones through reputation/dnszone.c.
TOOL_BINS := $(BUILD)/tests/feed_lookup $(BUILD)/tests/dnsrep_lookup

ALL_CFLAGS = $(STD) $(WARN) $(HARDEN_CFLAGS) $(CFLAGS) $(LTO) $(PKG_CFLAGS) -pthread

.PHONY: all tools check check-unit check-san check-valgrind bench fuzz clean
all: $(BIN)

$(BIN): $(CLI_OBJS) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(PKG_LIBS)

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(LIB_AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS)) -o $@ $< $(LIB) \
	    $(LDFLAGS) $(PKG_LIBS) $(shell $(PKG_CONFIG) --libs $(TEST_PKGS))

$(BUILD)/tests/feed_lookup: tests/tools/feed_lookup.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(PKG_LIBS)

$(BUILD)/tests/dnsrep_lookup: tests/tools/dnsrep_lookup.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(PKG_LIBS)

bench/genlog: bench/genlog.c
	$(CC) -O2 $(WARN) -o $@ $<

# The reputation lookup path (issue 13 targets): links the library.
bench/rep_bench: bench/rep_bench.c $(LIB)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(PKG_LIBS)

# The unit tests and the test tools, built without running them.
tools: $(UNIT_BINS) $(TOOL_BINS)

# (tests/pkg/: make install and the Debian package, in the optimised half only: the package builds its own binary)
check: $(BIN) $(UNIT_BINS) $(TOOL_BINS) bench/genlog
	MXGUARD=$(abspath $(BIN)) UNIT_DIR=$(abspath $(BUILD)/tests) PKG_TESTS=$(if $(filter 1,$(SAN)),0,1) tests/run_all.sh
ifneq ($(SAN),1)
	@$(MAKE) -s fuzz-smoke
endif

# (leaks inside libraries are suppressed, each with its reason: tests/lsan.supp)
check-san:
	LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 $(MAKE) SAN=1 BUILD=build/san check

check-valgrind: $(BIN) $(UNIT_BINS) $(TOOL_BINS) bench/genlog
	MXGUARD=$(abspath $(BIN)) UNIT_DIR=$(abspath $(BUILD)/tests) VALGRIND=1 tests/run_all.sh

bench: $(BIN) bench/genlog
	bench/bench_parse.sh

# The fuzz build compiles the library sources itself: they need clang's instrumentation.
# They are compiled once into build/fuzz/libmxguard-fuzz.a; each target links against it.
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_DIR     := build/fuzz
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)
FUZZ_OBJS    := $(LIB_SRCS:%.c=$(FUZZ_DIR)/lib/%.o)
FUZZ_LIB     := $(FUZZ_DIR)/libmxguard-fuzz.a
# make fuzz-long: every target for FUZZ_SECONDS from its seeds (tests/fuzz/seeds/NAME/,
# plus the golden logs for fuzz_parse and the sample configurations for fuzz_conf);
# the corpus grows in build/fuzz/corpus/NAME/, crashes go to build/fuzz/artifacts/.
FUZZ_SECONDS ?= 3600
FUZZ_MAXLEN_fuzz_parse     := 8192
FUZZ_MAXLEN_fuzz_conf      := 4096
FUZZ_MAXLEN_fuzz_socketmap := 4200
FUZZ_MAXLEN_fuzz_feed      := 16384
FUZZ_MAXLEN_fuzz_dnsreply  := 4096
FUZZ_MAXLEN_fuzz_cluster   := 1024
FUZZ_MAXLEN_fuzz_ctl       := 2048
FUZZ_MAXLEN_fuzz_control   := 2048
FUZZ_SEEDS_fuzz_parse := tests/golden samples/logs
FUZZ_SEEDS_fuzz_conf  := $(FUZZ_DIR)/conf-seeds

.PHONY: fuzz-long fuzz-smoke
fuzz: $(FUZZ_BINS)

# In `make check` (the optimised half; the targets are sanitizer builds themselves): every
# target built and run FUZZ_SMOKE_SECONDS from its seeds (tests/fuzz/smoke.sh).
FUZZ_SMOKE_SECONDS ?= 2
fuzz-smoke: $(FUZZ_DIR)/conf-seeds
	tests/fuzz/smoke.sh $(FUZZ_SMOKE_SECONDS) $(foreach t,$(FUZZ_TARGETS),"$(t)|$(or $(FUZZ_MAXLEN_$(t)),4096)|$(strip $(wildcard tests/fuzz/seeds/$(t:fuzz_%=%)) $(FUZZ_SEEDS_$(t)))")
-include $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)

$(FUZZ_DIR)/lib/%.o: %.c
	@mkdir -p $(@D)
	clang $(STD) -D_GNU_SOURCE -MMD -MP $(FUZZ_FLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# A target may need a file from outside the library (fuzz_ctl: the control socket's framing, cli/ctl.c, and
# the history its client reads, cli/history.c;
# fuzz_control: its commands, cli/control.c, against a daemon.h of the target's own).
FUZZ_EXTRA_fuzz_ctl := cli/ctl.c cli/history.c
FUZZ_EXTRA_fuzz_control := cli/control.c
.SECONDEXPANSION:
$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB) $$(FUZZ_EXTRA_fuzz_$$*)
	@mkdir -p $(@D)
	clang $(STD) -D_GNU_SOURCE -MMD -MP $(FUZZ_FLAGS) $(PKG_CFLAGS) -o $@ $< $(FUZZ_EXTRA_fuzz_$*) $(FUZZ_LIB) $(PKG_LIBS)

$(FUZZ_DIR)/conf-seeds: $(wildcard samples/*.conf tests/replay/*.conf)
	@mkdir -p $@
	cp $^ $@/
	@touch $@

# One target's long run (a crash is recorded and the next target still runs; the make fails at the end).
define fuzz_run
	@mkdir -p $(FUZZ_DIR)/corpus/$(1)
	@echo "== $(1): $(FUZZ_SECONDS) s"
	$(FUZZ_DIR)/$(1) -max_total_time=$(FUZZ_SECONDS) -max_len=$(or $(FUZZ_MAXLEN_$(1)),4096) -timeout=5 \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/$(1)- $(FUZZ_DIR)/corpus/$(1) \
	    $(wildcard tests/fuzz/seeds/$(1:fuzz_%=%)) $(FUZZ_SEEDS_$(1)) || echo $(1) >> $(FUZZ_DIR)/long-failed

endef

fuzz-long: $(FUZZ_BINS) $(FUZZ_DIR)/conf-seeds
	@mkdir -p $(FUZZ_DIR)/artifacts
	@rm -f $(FUZZ_DIR)/long-failed
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_run,$(t)))
	@if [ -f $(FUZZ_DIR)/long-failed ]; then echo "fuzz-long: findings from: $$(cat $(FUZZ_DIR)/long-failed) (build/fuzz/artifacts/)"; exit 1; fi

# make install [PREFIX=/usr/local] [DESTDIR=...]: the daemon where the FHS puts it. The
# configuration always goes to /etc/mxguard (SYSCONFDIR), the state to /var/lib/mxguard and the
# decision log to /var/log/mxguard: where the program and its unit look for them, whatever the
# prefix. An existing configuration is never overwritten (debian/ marks it a conffile).
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/mxguard
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
TMPFILESDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/tmpfiles.d,$(PREFIX)/lib/tmpfiles.d)
DOCS        := README.md docs/ARCHITECTURE.md docs/CLUSTER.md docs/EVENTS.md docs/FIREWALL.md docs/MAPS.md \
               docs/OPERATIONS.md docs/REPORTS.md docs/REPUTATION.md docs/RULES.md

.PHONY: install
install: $(BIN)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR)/samples \
	    $(DESTDIR)$(SYSCONFDIR)/mxguard/conf.d $(DESTDIR)$(SYSCONFDIR)/logrotate.d $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(TMPFILESDIR)
	install -m 755 $(BIN) $(DESTDIR)$(SBINDIR)/mxguard
	install -m 644 docs/man/mxguard.8 $(DESTDIR)$(MANDIR)/man8/mxguard.8
	install -m 644 docs/man/mxguard.conf.5 $(DESTDIR)$(MANDIR)/man5/mxguard.conf.5
	install -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 644 samples/mxguard.conf samples/fw-helper.sh $(DESTDIR)$(DOCDIR)/samples/
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/mxguard/mxguard.conf ]; then \
	    echo "install: $(DESTDIR)$(SYSCONFDIR)/mxguard/mxguard.conf exists: kept"; \
	else \
	    cat dist/mxguard.conf.head samples/mxguard.conf > $(DESTDIR)$(SYSCONFDIR)/mxguard/mxguard.conf && \
	    chmod 640 $(DESTDIR)$(SYSCONFDIR)/mxguard/mxguard.conf; \
	fi
	@[ -e $(DESTDIR)$(SYSCONFDIR)/mxguard/conf.d/local.conf ] || \
	    install -m 640 dist/local.conf $(DESTDIR)$(SYSCONFDIR)/mxguard/conf.d/local.conf
	install -m 644 dist/mxguard.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/mxguard
	sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' dist/mxguard.service.in \
	    > $(DESTDIR)$(UNITDIR)/mxguard.service
	chmod 644 $(DESTDIR)$(UNITDIR)/mxguard.service
	install -m 644 dist/mxguard.tmpfiles $(DESTDIR)$(TMPFILESDIR)/mxguard.conf

clean:
	rm -rf build mxguard bench/genlog bench/rep_bench

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)

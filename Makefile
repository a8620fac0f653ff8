# secretd - build, test and run.  See README.md and DESIGN §10.
#
#   make            bin/secretd bin/secret-shell bin/secret
#   make deps       install missing packages (apt-get)
#   make test       the fast tier, under a minute: build, unit tests and a
#                   smoke run of the integration suite (TEST_FILES)
#   make fuzz       the libFuzzer targets in build/fuzz (tests/fuzz/)
#   make check      deps, build, unit tests, every fuzz target for 5 s
#                   (tests/fuzz/run.sh), integration tests, and side by
#                   side the same under ASan+UBSan (tests/check.sh)
#   make lint      mandoc -Tlint and systemd-analyze on contrib/ units
#   make deb       Debian packages secretd, secret-client (tests/deb/build.sh)
#   make check-deb install them in a Debian 12 chroot and use them
#   make dev-up / dev-down / demo / bench / install

PREFIX	?= /usr/local
DESTDIR	?=
SAN	?=

ifeq ($(SAN),1)
CC	:= clang
BUILD	?= build/asan
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT	:= -O1
else
BUILD	?= build/release
SANFLAGS :=
OPT	:= -O2 -D_FORTIFY_SOURCE=2
endif
BIN	?= $(if $(filter 1,$(SAN)),$(BUILD)/bin,bin)

CC	?= cc
# One version for the three programs and the Debian package
# (debian/changelog starts at it): the file VERSION.
VERSION	:= $(shell cat VERSION)
WARN	:= -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wpointer-arith \
	   -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS	?= $(OPT) -g
ALLCFLAGS := -std=c11 -D_GNU_SOURCE -DSECRETD_VERSION='"$(VERSION)"' $(WARN) $(CFLAGS) $(SANFLAGS) \
	   -fstack-protector-strong -fPIE -pthread \
	   -I. -Ilib -I$(BUILD)/gen -I/usr/include/postgresql -MMD -MP
LDFLAGS_ALL := $(SANFLAGS) -pie -pthread -Wl,-z,relro,-z,now $(LDFLAGS)

LIB_SRCS	:= $(wildcard lib/*.c)
SECRETD_SRCS	:= $(filter-out secretd/main.c,$(wildcard secretd/*.c))
SHELL_SRCS	:= $(filter-out secret-shell/main.c,$(wildcard secret-shell/*.c))
CLIENT_SRCS	:= $(filter-out client/main.c,$(wildcard client/*.c))
UNIT_SRCS	:= $(wildcard tests/unit/test_*.c)
FUZZ_SRCS	:= $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIB_A		:= $(BUILD)/libsd.a
SECRETD_A	:= $(BUILD)/libsecretd.a
SHELL_A		:= $(BUILD)/libshell.a
CLIENT_A	:= $(BUILD)/libclient.a
UNIT_BINS	:= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

PROGS	:= $(BIN)/secretd $(BIN)/secret-shell $(BIN)/secret

.PHONY: all deps check unit integration sancheck dev-up dev-down demo bench \
	install clean fuzz test lint deb check-deb check-ha
all: $(PROGS) docs/secret.1

$(BUILD)/%.o: %.c VERSION
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALLCFLAGS) -c -o $@ $<

$(LIB_A): $(call obj,$(LIB_SRCS))
	@rm -f $@; ar rcs $@ $^
$(BUILD)/gen/migrations.c: sql/embed.sh $(sort $(wildcard sql/*.sql))
	@mkdir -p $(dir $@)
	sql/embed.sh $@ $(sort $(wildcard sql/*.sql))
$(BUILD)/gen/migrations.o: $(BUILD)/gen/migrations.c
	$(CC) $(ALLCFLAGS) -c -o $@ $<

# The sshd snippet that `secretd setup` installs is the one in contrib/.
$(BUILD)/gen/sshd_snippet.c: contrib/sshd_config.d-secretd.conf
	@mkdir -p $(dir $@)
	@{ echo '/* Generated from $<: do not edit. */'; \
	  echo '#include "secretd/sshd_setup.h"'; \
	  printf 'const char sshd_snippet_template[] = "'; \
	  od -An -v -tx1 $< | tr -d ' \n' | sed 's/\(..\)/\\x\1/g'; \
	  printf '";\n'; } >$@.tmp && mv $@.tmp $@
$(BUILD)/gen/sshd_snippet.o: $(BUILD)/gen/sshd_snippet.c
	$(CC) $(ALLCFLAGS) -c -o $@ $<

# The help of `secret` and the synopsis lines of secret(1) have one
# source, client/help.txt (docs/contract-notes.md): the command table
# compiles it in, and the man page is made from docs/secret.1.in with it
# (committed, so that the page reads without a build; make lint checks
# that the committed page is the one this makes).
$(BUILD)/gen/gen_help.h: client/help.sh client/help.txt
	@mkdir -p $(dir $@)
	client/help.sh header client/help.txt >$@.tmp && mv $@.tmp $@
$(BUILD)/client/commands.o: $(BUILD)/gen/gen_help.h
docs/secret.1: client/help.sh client/help.txt docs/secret.1.in
	client/help.sh man client/help.txt docs/secret.1.in >$@.tmp && mv $@.tmp $@

# The HTML report's stylesheet and page skeleton, compiled into secret.
REPORT_ASSETS := client/report.css client/report.html
$(BUILD)/gen/report_assets.c: client/embed.sh $(REPORT_ASSETS)
	@mkdir -p $(dir $@)
	client/embed.sh $@ client/report_assets.h report_css client/report.css \
	    report_page client/report.html
$(BUILD)/gen/report_assets.o: $(BUILD)/gen/report_assets.c
	$(CC) $(ALLCFLAGS) -c -o $@ $<

$(SECRETD_A): $(call obj,$(SECRETD_SRCS)) $(BUILD)/gen/migrations.o \
	    $(BUILD)/gen/sshd_snippet.o
	@rm -f $@; ar rcs $@ $^
$(SHELL_A): $(call obj,$(SHELL_SRCS))
	@rm -f $@; ar rcs $@ $^
$(CLIENT_A): $(call obj,$(CLIENT_SRCS)) $(BUILD)/gen/report_assets.o
	@rm -f $@; ar rcs $@ $^

$(BIN)/secretd: $(call obj,secretd/main.c) $(SECRETD_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lpq -ljansson -lsodium -lsystemd
$(BIN)/secret-shell: $(call obj,secret-shell/main.c) $(SHELL_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -ljansson -lsodium
$(BIN)/secret: $(call obj,client/main.c) $(CLIENT_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lssh -ljansson -lsodium

$(BUILD)/tests/%: $(call obj,tests/unit/%.c) $(SECRETD_A) $(SHELL_A) $(CLIENT_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lcmocka -lpq -lssh -ljansson -lsodium -lsystemd

# libFuzzer targets, one per parser of outside bytes (tests/fuzz/README.md).
# Each is compiled whole, with lib/*.c and the sources of the parser
# under test listed below, so that libFuzzer's coverage sees all of them.
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))
fuzz: $(FUZZ_BINS)
build/fuzz/fuzz_human build/fuzz/fuzz_authinfo: $(SHELL_SRCS)
build/fuzz/fuzz_template: client/template.c
build/fuzz/fuzz_config: secretd/config.c
build/fuzz/%: tests/fuzz/%.c $(LIB_SRCS)
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -I. -Ilib $(filter %.c,$^) \
	    -ljansson -lsodium -o $@

deps:
	@tests/deps.sh

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: all
	tests/integration/run.sh $(BIN)

# The fast tier (DESIGN §10): unit tests, then a few integration files
# that between them run every binary end to end (secret -> sshd ->
# secret-shell -> secretd -> PostgreSQL).  make check is the full gate.
TEST_FILES ?= t_00_smoke.sh t_01_harness.sh t_10_secrets.sh
test: all
	$(MAKE) unit
	tests/integration/run.sh $(BIN) $(TEST_FILES)

# The whole suite: release build and unit tests, every fuzz target for
# a few seconds on its seeds, then the integration suite against the
# build and, side by side, the same under ASan+UBSan.
check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) lint
	$(MAKE) fuzz
	tests/fuzz/run.sh
	MAKE="$(MAKE)" tests/check.sh

# Man pages (mandoc -Tlint, no warning), systemd units (verify, and
# systemd-analyze security within its limit), and that every shell block
# of docs/operations.md is marked run by make check-deb or not run.
lint: all
	tests/manlint.sh
	tests/mansync.sh
	tests/units.sh
	tests/deb/guide.py check docs/operations.md

# The high-availability test (DESIGN §10, tests/ha/README.md): a
# pg_auto_failover formation and two front-ends on loopback, failover
# under load.  Its packages are not in the default deps.
check-ha: all
	@tests/deps.sh ha
	tests/ha/run.sh $(BIN)

# Debian packages (DESIGN §10): build/deb/*.deb, lintian clean; then
# installed into a Debian 12 chroot and used there.
deb:
	tests/deb/build.sh
check-deb: deb
	tests/deb/check.sh

dev-up: all
	@tests/integration/dev.sh up
dev-down:
	@tests/integration/dev.sh down
demo: dev-up
	@tests/integration/demo.sh

# bench-nohint/ and bench-nospin/: secretd built without the lone get's
# guess and without the lone request's busy-wait, for the A/B runs that
# say whether each pays (get_hint_p50_ratio, spin_p50_ratio)
bench: all
	@$(MAKE) $(BUILD)/bench/loadgen
	@$(MAKE) BUILD=build/bench-nohint BIN=build/bench-nohint/bin \
	    CFLAGS='$(CFLAGS) -DSECRETD_NO_GET_HINT' build/bench-nohint/bin/secretd
	@$(MAKE) BUILD=build/bench-nospin BIN=build/bench-nospin/bin \
	    CFLAGS='$(CFLAGS) -DSECRETD_NO_SPIN' build/bench-nospin/bin/secretd
	BENCH_NOHINT_BIN=build/bench-nohint/bin BENCH_NOSPIN_BIN=build/bench-nospin/bin \
	    tests/bench/run.sh $(BUILD)/bench/loadgen

$(BUILD)/bench/loadgen: $(call obj,tests/bench/loadgen.c) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lpq -ljansson -lsodium

# Where systemd looks: /lib/systemd/system for PREFIX=/usr (Debian 12's
# packages), else PREFIX/lib/systemd/system (/usr/local/lib/systemd/system
# is on systemd's search path too); sysusers.d and tmpfiles.d likewise.
# The contrib/ files name /usr/local paths: installed, they name PREFIX's.
UNITDIR	?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
COMPLETIONSDIR ?= $(PREFIX)/share/bash-completion/completions
UNITS	:= $(wildcard contrib/*.service contrib/*.socket contrib/*.timer)
SEDPREFIX := sed -e 's|/usr/local/|$(PREFIX)/|g'

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/libexec/secretd \
	    $(DESTDIR)$(PREFIX)/share/secretd/sql \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
	    $(DESTDIR)$(COMPLETIONSDIR)
	install -m 0755 bin/secretd $(DESTDIR)$(PREFIX)/sbin/secretd
	install -m 0755 bin/secret-shell $(DESTDIR)$(PREFIX)/libexec/secretd/secret-shell
	install -m 0755 bin/secret $(DESTDIR)$(PREFIX)/bin/secret
	install -m 0644 sql/*.sql $(DESTDIR)$(PREFIX)/share/secretd/sql/
	$(SEDPREFIX) contrib/sshd_config.d-secretd.conf \
	    >$(DESTDIR)$(PREFIX)/share/secretd/sshd_config.d-secretd.conf
	chmod 0644 $(DESTDIR)$(PREFIX)/share/secretd/sshd_config.d-secretd.conf
	set -e; for u in $(UNITS); do \
	    $(SEDPREFIX) $$u >$(DESTDIR)$(UNITDIR)/$${u#contrib/}; \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$${u#contrib/}; done
	install -m 0644 contrib/secretd.sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/secretd.conf
	install -m 0644 contrib/secretd.tmpfiles.conf $(DESTDIR)$(TMPFILESDIR)/secretd.conf
	install -m 0644 contrib/secret.bash-completion $(DESTDIR)$(COMPLETIONSDIR)/secret
	install -m 0644 docs/secret.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 docs/secretd.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 docs/secretd.8 docs/secret-shell.8 $(DESTDIR)$(PREFIX)/share/man/man8/

clean:
	rm -rf build bin

-include $(shell find build -path 'build/deb*' -prune -o -type f -name '*.d' -print 2>/dev/null)

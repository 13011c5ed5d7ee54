# shmetrics - one non-recursive Makefile.
#
#   make            programs into build/bin/
#   make run        build and run the agent with the embedded default config
#   make test       everything: unit tests, sanitizer builds, hammer, kill and end-to-end tests
#   make SANITIZE=address,undefined   (or SANITIZE=thread) builds into build/<sanitizer>/
#   make install PREFIX=/usr/local DESTDIR=
#   make deb, make fuzz, make reliability-{faults,load,soak}   (docs/reliability.md)
#
# Missing build dependencies are installed by scripts/deps.sh (apt, when root).

CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
SANITIZE ?=
RUN_ARGS ?= --web.listen-address=127.0.0.1:9469

comma := ,
ifeq ($(SANITIZE),)
BUILD := build
SANFLAGS :=
else
BUILD := build/$(subst $(comma),-,$(SANITIZE))
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

PKGS := libmicrohttpd jansson zlib gnutls yaml-0.1 libcrypt
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lmicrohttpd -ljansson -lz -lgnutls -lyaml -lcrypt)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wno-format-nonliteral
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) -Ilib -Iinclude -Iconfig -Icollectors \
	$(PKG_CFLAGS) -MMD -MP -pthread
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS) -pthread

# Each directory is one role.  Its main.c is the program; the rest is an archive
# that the program and the tests link.
LIB_SRC := $(wildcard lib/*.c)
CONFIG_SRC := $(wildcard config/*.c)
# main.c and runner.c are the collector process (they log); the rest is the library.
COLLECTOR_MAIN_SRC := collectors/main.c collectors/runner.c
COLLECTORS_SRC := $(filter-out $(COLLECTOR_MAIN_SRC),$(wildcard collectors/*.c))
EXPORTER_SRC := $(filter-out exporter/main.c,$(wildcard exporter/*.c))
AGENT_SRC := $(filter-out agent/main.c,$(wildcard agent/*.c))
TEST_SRC := $(wildcard tests/test_*.c)
TEST_HELPER_SRC := $(wildcard tests/helpers/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_A := $(BUILD)/libshmetrics-segment.a
CONFIG_A := $(BUILD)/libshmetrics-config.a
COLLECTORS_A := $(BUILD)/libshmetrics-collectors.a
EXPORTER_A := $(BUILD)/libshmetrics-exporter.a
AGENT_A := $(BUILD)/libshmetrics-agent.a
ARCHIVES := $(AGENT_A) $(EXPORTER_A) $(COLLECTORS_A) $(CONFIG_A) $(LIB_A)

BIN := $(BUILD)/bin
PROGRAMS := $(BIN)/shmetrics-agent $(BIN)/shmetrics-collector $(BIN)/shmetrics-exporter
TESTS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
TEST_HELPERS := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(TEST_HELPER_SRC))

.PHONY: all deps run test unit-tests check-config install uninstall clean tests

all: deps-check $(PROGRAMS)

tests: $(TESTS) $(TEST_HELPERS)

deps:
	@scripts/deps.sh

# Cheap check on every build; installs or explains only when something is missing.
.PHONY: deps-check
deps-check:
	@scripts/deps.sh --quiet

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/config/default_config.o: $(BUILD)/gen/default_config.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The embedded default configuration is config/default.json, turned into a C string.
$(BUILD)/gen/default_config.c: config/default.json scripts/embed.sh
	@mkdir -p $(dir $@)
	scripts/embed.sh config_default_json $< > $@

$(LIB_A): $(call obj,$(LIB_SRC))
$(CONFIG_A): $(call obj,$(CONFIG_SRC)) $(BUILD)/obj/config/default_config.o
$(COLLECTORS_A): $(call obj,$(COLLECTORS_SRC))
$(EXPORTER_A): $(call obj,$(EXPORTER_SRC))
$(AGENT_A): $(call obj,$(AGENT_SRC))
$(ARCHIVES):
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BIN)/shmetrics-agent: $(call obj,agent/main.c) $(AGENT_A) $(CONFIG_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BIN)/shmetrics-collector: $(call obj,$(COLLECTOR_MAIN_SRC)) $(COLLECTORS_A) $(CONFIG_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BIN)/shmetrics-exporter: $(call obj,exporter/main.c) $(EXPORTER_A) $(CONFIG_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: $(call obj,tests/%.c) $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(ARCHIVES) $(PKG_LIBS) -lcmocka

# test_collectors_sys feeds fixed results to uname, adjtimex and clock_gettime.
$(BUILD)/tests/test_collectors_sys: ALL_LDFLAGS += -Wl,--wrap=uname,--wrap=adjtimex,--wrap=clock_gettime

$(BUILD)/tests/helpers/%: $(call obj,tests/helpers/%.c) $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(ARCHIVES) $(PKG_LIBS)

run: all
	$(BIN)/shmetrics-agent $(RUN_ARGS)

# The whole suite, the way CI runs it.  tests/run.sh prints one result line per
# step and a final "N passed, N failed".
test: deps
	@tests/run.sh

# Only the plain unit tests of the current build (fast loop while developing).
unit-tests: all tests
	@for t in $(TESTS); do echo "== $$t"; $$t || exit 1; done

# Installed layout (docs/operations.md).  SYSCONFDIR is /etc for PREFIX=/usr.
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/shmetrics
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
# Programs users run go to bin/; the agent's children to libexec/shmetrics/.
CHILD_PROGRAMS := $(BIN)/shmetrics-collector $(BIN)/shmetrics-exporter
USER_PROGRAMS := $(filter-out $(CHILD_PROGRAMS),$(PROGRAMS))
D := $(DESTDIR)

# The custom-collector library, header and pkg-config file: install-lib, below.
install: all
	install -d $(D)$(PREFIX)/bin $(D)$(PREFIX)/libexec/shmetrics $(D)$(DOCDIR) \
		$(D)$(MANDIR)/man1 $(D)$(SYSCONFDIR)/shmetrics $(D)$(UNITDIR) $(D)$(SYSUSERSDIR)
	install -m 0755 $(USER_PROGRAMS) $(D)$(PREFIX)/bin/
	install -m 0755 $(CHILD_PROGRAMS) $(D)$(PREFIX)/libexec/shmetrics/
	install -m 0644 config/example.json README.md docs/*.md $(D)$(DOCDIR)/
	install -m 0644 docs/man/*.1 $(D)$(MANDIR)/man1/
	@# An operator's edited configuration is never overwritten.
	test -e $(D)$(SYSCONFDIR)/shmetrics/config.json || \
		install -m 0644 config/default.json $(D)$(SYSCONFDIR)/shmetrics/config.json
	sed -e 's#/usr/bin/#$(PREFIX)/bin/#g' -e 's#/etc/shmetrics/#$(SYSCONFDIR)/shmetrics/#g' \
		-e 's#/usr/share/doc/shmetrics/#$(DOCDIR)/#g' deploy/shmetrics.service \
		>$(D)$(UNITDIR)/shmetrics.service
	chmod 0644 $(D)$(UNITDIR)/shmetrics.service
	install -m 0644 deploy/sysusers.d/shmetrics.conf $(D)$(SYSUSERSDIR)/

# The configuration in SYSCONFDIR is left in place, like a package's conffile.
uninstall:
	rm -f $(patsubst $(BIN)/%,$(D)$(PREFIX)/bin/%,$(USER_PROGRAMS)) \
		$(D)$(UNITDIR)/shmetrics.service $(D)$(SYSUSERSDIR)/shmetrics.conf \
		$(patsubst docs/man/%,$(D)$(MANDIR)/man1/%,$(wildcard docs/man/*.1))
	rm -rf $(D)$(PREFIX)/libexec/shmetrics $(D)$(DOCDIR)

# ---- deployment and reliability (docs/operations.md, docs/reliability.md) ----
.PHONY: deb fuzz fuzz-short reliability-faults reliability-load reliability-soak

# A Debian package from a staged `make install PREFIX=/usr`, into build/deb/.
deb:
	deploy/debian/build-deb.sh

# libFuzzer harnesses (clang): 10 minutes each, new inputs merged into the corpus.
fuzz:
	tests/fuzz/run.sh --long

fuzz-short:
	tests/fuzz/run.sh --short

reliability-faults: all tests
	FAULT_SECONDS=$${FAULT_SECONDS:-300} bash tests/e2e_faults.sh

reliability-load: all
	bench/reliability_load.sh

reliability-soak:
	bench/reliability_soak.sh

# CPU per full collection cycle next to node_exporter per scrape (README, "Cost of collecting").
$(BUILD)/bench/collect_cycle: $(call obj,bench/collect_cycle.c) $(COLLECTORS_A) $(CONFIG_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

.PHONY: bench-collectors
bench-collectors: all $(BUILD)/bench/collect_cycle
	bench/collectors_cost.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' -type f 2>/dev/null)

# ---- libshmetrics: the custom-collector library (include/shmetrics.h) --------------
# The writer half of lib/ plus lib/client*.c, compiled again with -fPIC and hidden
# visibility into $(BUILD)/pic/.  Only the SHMETRICS_API functions are exported by the
# shared library; the static one is a single relocatable object whose other symbols
# are made local, so neither leaks batch_*, seg_* ... into a user's program.
CLIENT_SONAME := libshmetrics.so.0
CLIENT_SRC := $(filter-out lib/log.c lib/seg_reader.c,$(LIB_SRC))
CLIENT_PIC := $(patsubst %.c,$(BUILD)/pic/%.o,$(CLIENT_SRC))
CLIENT_LIBDIR := $(BUILD)/lib
CLIENT_SO := $(CLIENT_LIBDIR)/$(CLIENT_SONAME)
CLIENT_A := $(CLIENT_LIBDIR)/libshmetrics.a
CLIENT_PC := $(CLIENT_LIBDIR)/shmetrics.pc
CLIENT_LIBS := $(CLIENT_SO) $(CLIENT_LIBDIR)/libshmetrics.so $(CLIENT_A) $(CLIENT_PC)

.PHONY: libshmetrics install-lib uninstall-lib bench-client FORCE
all: $(CLIENT_LIBS)
libshmetrics: $(CLIENT_LIBS)
install: install-lib
uninstall: uninstall-lib

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(CLIENT_SO): $(CLIENT_PIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,$(CLIENT_SONAME) -Wl,--no-undefined -o $@ $^ -lm

$(CLIENT_LIBDIR)/libshmetrics.so: $(CLIENT_SO)
	ln -sf $(CLIENT_SONAME) $@

$(CLIENT_A): $(CLIENT_PIC)
	@mkdir -p $(dir $@)
	$(CC) -r -nostdlib -o $(BUILD)/pic/libshmetrics.o $^
	objcopy --localize-hidden $(BUILD)/pic/libshmetrics.o
	rm -f $@
	ar rcs $@ $(BUILD)/pic/libshmetrics.o

# Regenerated on every run (it is tiny) and replaced only when PREFIX changed it.
define CLIENT_PC_TEXT
prefix=$(PREFIX)
libdir=$${prefix}/lib
includedir=$${prefix}/include

Name: shmetrics
Description: Publish custom metrics through a shmetrics agent
Version: 0.1.0
Cflags: -I$${includedir}
Libs: -L$${libdir} -lshmetrics
Libs.private: -pthread -lm
endef
export CLIENT_PC_TEXT

$(CLIENT_PC): FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' "$$CLIENT_PC_TEXT" > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

install-lib: $(CLIENT_LIBS)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 0755 $(CLIENT_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf $(CLIENT_SONAME) $(DESTDIR)$(PREFIX)/lib/libshmetrics.so
	install -m 0644 $(CLIENT_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 include/shmetrics.h $(DESTDIR)$(PREFIX)/include/
	install -m 0644 $(CLIENT_PC) $(DESTDIR)$(PREFIX)/lib/pkgconfig/

uninstall-lib:
	rm -f $(DESTDIR)$(PREFIX)/lib/$(CLIENT_SONAME) $(DESTDIR)$(PREFIX)/lib/libshmetrics.so \
		$(DESTDIR)$(PREFIX)/lib/libshmetrics.a $(DESTDIR)$(PREFIX)/include/shmetrics.h \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/shmetrics.pc

# ns per shmetrics_inc against a mutex baseline (not part of `make test`).
$(BUILD)/bench/client_inc: $(call obj,bench/client_inc.c) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lm

bench-client: $(BUILD)/bench/client_inc
	$(BUILD)/bench/client_inc
# ---- end of libshmetrics ------------------------------------------------------------

# ---- the shmetrics command-line tool (cli/, docs/cli.md) ------------------------------
CLI_SRC := $(wildcard cli/*.c)

all: $(BIN)/shmetrics

$(BIN)/shmetrics: $(call obj,$(CLI_SRC)) $(EXPORTER_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

.PHONY: install-cli uninstall-cli
install: install-cli
uninstall: uninstall-cli

install-cli: $(BIN)/shmetrics
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN)/shmetrics $(DESTDIR)$(PREFIX)/bin/

uninstall-cli:
	rm -f $(DESTDIR)$(PREFIX)/bin/shmetrics
# ---- end of the command-line tool -----------------------------------------------------

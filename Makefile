# shmetrics - one non-recursive Makefile.
#
#   make            programs into build/bin/
#   make run        build and run the agent with the embedded default config
#   make test       everything: unit tests, sanitizer builds, hammer, kill and end-to-end tests
#   make SANITIZE=address,undefined   (or SANITIZE=thread) builds into build/<sanitizer>/
#   make install PREFIX=/usr/local DESTDIR=
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

PKGS := libmicrohttpd jansson zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lmicrohttpd -ljansson -lz)

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
COLLECTORS_SRC := $(filter-out collectors/main.c,$(wildcard collectors/*.c))
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

$(BIN)/shmetrics-collector: $(call obj,collectors/main.c) $(COLLECTORS_A) $(CONFIG_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BIN)/shmetrics-exporter: $(call obj,exporter/main.c) $(EXPORTER_A) $(CONFIG_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: $(call obj,tests/%.c) $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(ARCHIVES) $(PKG_LIBS) -lcmocka

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

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/shmetrics \
		$(DESTDIR)$(PREFIX)/share/doc/shmetrics
	install -m 0755 $(BIN)/shmetrics-agent $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 $(BIN)/shmetrics-collector $(BIN)/shmetrics-exporter \
		$(DESTDIR)$(PREFIX)/libexec/shmetrics/
	install -m 0644 config/example.json $(DESTDIR)$(PREFIX)/share/doc/shmetrics/
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/shmetrics/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/shmetrics-agent
	rm -rf $(DESTDIR)$(PREFIX)/libexec/shmetrics $(DESTDIR)$(PREFIX)/share/doc/shmetrics

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)

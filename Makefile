# shmetrics - one non-recursive Makefile.
#
#   make            programs, the client library and the test binaries' inputs into build/
#   make run        build and run the agent with the embedded default config
#   make test       everything: unit tests, sanitizer builds, hammer, kill and end-to-end tests
#   make deps       install (as root, with apt) or name the missing build and test packages
#   make SANITIZE=address,undefined   (or SANITIZE=thread) builds into build/<sanitizer>/
#   make install PREFIX=/usr/local DESTDIR=
#   make deb, make fuzz, make reliability-{faults,load,soak}   (docs/reliability.md)
#
# Only `make deps`, `make run` and `make test` install packages; a plain `make`
# checks the build packages and says what is missing.

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

# ---- libraries, per program ----------------------------------------------------------
# pkg-config names; each program links only the ones its code calls.
pkg_libs = $(shell pkg-config --libs $(1) 2>/dev/null)
# Only the agent's configuration loader uses jansson: the JSON body of
# /metrics.json is written by format/render_json.c itself.
PKGS_CONFIG := jansson
PKGS_FORMAT :=
PKGS_EXPORTER := libmicrohttpd zlib gnutls yaml-0.1 libcrypt
# The remote-write shipper: protobuf, snappy, HTTP(S) with the exporter's TLS stack.
PKGS_SHIPPER := libprotobuf-c snappy libcurl zlib
# The systemd collector compiles against sd-bus.h (libsystemd-dev) and loads
# libsystemd.so.0 with dlopen when it starts: nothing links it.
PKGS := $(sort $(PKGS_CONFIG) $(PKGS_EXPORTER) $(PKGS_SHIPPER))
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Everything, for the tests and the fuzz harnesses.
PKG_LIBS := $(call pkg_libs,$(PKGS))

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wno-format-nonliteral
CFLAGS ?= -O2 -g
# One include path per layer: the segment protocol, the public header, the
# configuration, the exposition formats, the collectors and their helpers.
INCLUDES := -Ilib -Iinclude -Iconfig -Iformat -Icollectors -Icollectors/util -Ishipper \
	-I$(BUILD)/gen
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) $(INCLUDES) \
	$(PKG_CFLAGS) -MMD -MP -pthread
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS) -pthread

# ---- sources: one archive per layer ------------------------------------------------------
# Each role directory's main.c is the program; the rest is an archive that the
# program and the tests link.
LIB_SRC := $(wildcard lib/*.c)
FORMAT_SRC := $(wildcard format/*.c)
# config/ in two layers: the settings (settings.def, the value parsers, the
# collector list and options) that the agent and its children share, without
# JSON; and the agent's JSON configuration, the only code that links jansson.
SETTINGS_SRC := config/settings.c config/values.c config/util.c config/ids.c \
	config/builtin.c config/options.c
CONFIG_SRC := $(filter-out $(SETTINGS_SRC),$(wildcard config/*.c))
# main.c and runner.c are the collector process (they log); the rest, the
# collectors and their helpers in collectors/util/, is the library.
COLLECTOR_MAIN_SRC := collectors/main.c collectors/runner.c
COLLECTORS_SRC := $(filter-out $(COLLECTOR_MAIN_SRC),$(wildcard collectors/*.c collectors/util/*.c))
EXPORTER_SRC := $(filter-out exporter/main.c,$(wildcard exporter/*.c))
AGENT_SRC := $(filter-out agent/main.c,$(wildcard agent/*.c))
SHIPPER_SRC := $(filter-out shipper/main.c,$(wildcard shipper/*.c))
# C code generated from the remote-write .proto (protoc-c), compiled into the shipper's archive.
SHIPPER_GEN := $(BUILD)/gen/remote.pb-c.c
CLI_SRC := $(wildcard cli/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_HELPER_SRC := $(wildcard tests/helpers/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_A := $(BUILD)/libshmetrics-segment.a
FORMAT_A := $(BUILD)/libshmetrics-format.a
SETTINGS_A := $(BUILD)/libshmetrics-settings.a
CONFIG_A := $(BUILD)/libshmetrics-config.a
COLLECTORS_A := $(BUILD)/libshmetrics-collectors.a
EXPORTER_A := $(BUILD)/libshmetrics-exporter.a
AGENT_A := $(BUILD)/libshmetrics-agent.a
SHIPPER_A := $(BUILD)/libshmetrics-shipper.a
ARCHIVES := $(AGENT_A) $(EXPORTER_A) $(SHIPPER_A) $(COLLECTORS_A) $(CONFIG_A) $(SETTINGS_A) \
	$(FORMAT_A) $(LIB_A)

BIN := $(BUILD)/bin
PROGRAMS := $(BIN)/shmetrics-agent $(BIN)/shmetrics-collector $(BIN)/shmetrics-exporter \
	$(BIN)/shmetrics-shipper $(BIN)/shmetrics
TESTS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
TEST_HELPERS := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(TEST_HELPER_SRC))

# ---- libshmetrics: the custom-collector library (include/shmetrics.h) --------------------
# The writer half of lib/ plus lib/client*.c, compiled again with -fPIC and hidden
# visibility into $(BUILD)/pic/.  Only the SHMETRICS_API functions are exported by the
# shared library; the static one is a single relocatable object whose other symbols
# are made local, so neither leaks batch_*, seg_* ... into a user's program.
CLIENT_SONAME := libshmetrics.so.0
CLIENT_SRC := $(filter-out lib/log.c lib/seg_reader.c lib/seg_reader_workers.c lib/procstat.c,\
	$(LIB_SRC))
CLIENT_PIC := $(patsubst %.c,$(BUILD)/pic/%.o,$(CLIENT_SRC))
CLIENT_LIBDIR := $(BUILD)/lib
CLIENT_SO := $(CLIENT_LIBDIR)/$(CLIENT_SONAME)
CLIENT_A := $(CLIENT_LIBDIR)/libshmetrics.a
CLIENT_PC := $(CLIENT_LIBDIR)/shmetrics.pc
CLIENT_LIBS := $(CLIENT_SO) $(CLIENT_LIBDIR)/libshmetrics.so $(CLIENT_A) $(CLIENT_PC)

# ---- the Python package python/shmetrics (docs/python.md) ------------------------------------
# Its extension module is built in place, beside the package's Python files, so that
# PYTHONPATH=python imports it after `make`; it links the static libshmetrics.  Debian's
# python3 (never the one on PATH) decides the headers, the suffix and where to install.
PYTHON ?= /usr/bin/python3
PY_CFLAGS := $(shell $(PYTHON)-config --includes 2>/dev/null)
PY_EXT := python/shmetrics/_shmetrics$(shell $(PYTHON)-config --extension-suffix 2>/dev/null)
PY_OBJ := $(BUILD)/pic/python/shmetrics/_shmetrics.o
# A sanitizer build would link the extension against a runtime python3 does not load.
PY_TARGETS := $(if $(SANITIZE),,$(PY_EXT))
# Where Debian's python3 looks: /usr/lib/python3/dist-packages for its own packages,
# /usr/local/lib/python3.X/dist-packages (and the like under other prefixes) for others.
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
PYTHON_SITEDIR ?= $(if $(filter /usr,$(PREFIX)),$(PREFIX)/lib/python3/dist-packages,$(PREFIX)/lib/python$(PY_VERSION)/dist-packages)

.PHONY: all deps deps-check run test tests unit-tests install uninstall clean libshmetrics FORCE \
	python print-python-sitedir

all: deps-check $(PROGRAMS) $(CLIENT_LIBS) $(PY_TARGETS)

python: $(PY_EXT)

tests: $(TESTS) $(TEST_HELPERS)

libshmetrics: $(CLIENT_LIBS)

deps:
	@scripts/deps.sh

# Cheap check on every build: names what is missing, installs nothing.
deps-check:
	@scripts/deps.sh --check

# ---- compiling ------------------------------------------------------------------------------
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

# The remote-write messages: C from shipper/remote.proto at build time.  Every
# object that may include the generated header waits for it.
$(BUILD)/gen/remote.pb-c.c $(BUILD)/gen/remote.pb-c.h &: shipper/remote.proto
	@mkdir -p $(dir $@)
	protoc-c --c_out=$(BUILD)/gen -Ishipper $<

$(BUILD)/obj/gen/remote.pb-c.o: $(SHIPPER_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -c $< -o $@

$(call obj,$(SHIPPER_SRC) shipper/main.c $(TEST_SRC) $(TEST_HELPER_SRC)): | $(BUILD)/gen/remote.pb-c.h

# The dashboard (web/, docs/dashboard.md): the page, its script and style, and the
# pinned charting library committed under web/vendor/ (scripts/vendor-web.sh
# refreshes it from npm; building needs no network), as byte arrays.
WEB_ASSETS := / web/index.html /dashboard/app.js web/app.js /dashboard/app.css web/app.css \
	/dashboard/uPlot.min.js web/vendor/uplot/uPlot.iife.min.js \
	/dashboard/uPlot.min.css web/vendor/uplot/uPlot.min.css \
	/dashboard/uPlot.LICENSE web/vendor/uplot/LICENSE

$(BUILD)/gen/web_assets.c: $(filter web/%,$(WEB_ASSETS)) scripts/embed_web.sh
	@mkdir -p $(dir $@)
	scripts/embed_web.sh $(WEB_ASSETS) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/exporter/web_assets.o: $(BUILD)/gen/web_assets.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iexporter -c $< -o $@

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(LIB_A): $(call obj,$(LIB_SRC))
$(FORMAT_A): $(call obj,$(FORMAT_SRC))
$(SETTINGS_A): $(call obj,$(SETTINGS_SRC))
$(CONFIG_A): $(call obj,$(CONFIG_SRC)) $(BUILD)/obj/config/default_config.o
$(COLLECTORS_A): $(call obj,$(COLLECTORS_SRC))
$(EXPORTER_A): $(call obj,$(EXPORTER_SRC)) $(BUILD)/obj/exporter/web_assets.o
$(AGENT_A): $(call obj,$(AGENT_SRC))
$(SHIPPER_A): $(call obj,$(SHIPPER_SRC)) $(BUILD)/obj/gen/remote.pb-c.o
$(ARCHIVES):
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# ---- linking: each program with the layers and libraries it uses ----------------------------
link = @mkdir -p $(dir $@); $(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o %.a,$^) $(1)

$(BIN)/shmetrics-agent: $(call obj,agent/main.c) $(AGENT_A) $(CONFIG_A) $(SETTINGS_A) $(LIB_A)
	$(call link,$(call pkg_libs,$(PKGS_CONFIG)))

# The children read their settings from the command line: no jansson.
$(BIN)/shmetrics-collector: $(call obj,$(COLLECTOR_MAIN_SRC)) $(COLLECTORS_A) $(SETTINGS_A) \
		$(FORMAT_A) $(LIB_A)
	$(call link,-lm)

$(BIN)/shmetrics-exporter: $(call obj,exporter/main.c) $(EXPORTER_A) $(SETTINGS_A) $(FORMAT_A) \
		$(LIB_A)
	$(call link,$(call pkg_libs,$(PKGS_EXPORTER)) -lm)

$(BIN)/shmetrics-shipper: $(call obj,shipper/main.c) $(SHIPPER_A) $(SETTINGS_A) $(FORMAT_A) \
		$(LIB_A)
	$(call link,$(call pkg_libs,$(PKGS_SHIPPER)) -lm)

$(BIN)/shmetrics: $(call obj,$(CLI_SRC)) $(FORMAT_A) $(LIB_A)
	$(call link,-lm)

$(BUILD)/tests/%: $(call obj,tests/%.c) $(ARCHIVES)
	$(call link,$(PKG_LIBS) -lcmocka -lm)

# test_collectors_sys feeds fixed results to uname, adjtimex and clock_gettime.
$(BUILD)/tests/test_collectors_sys: ALL_LDFLAGS += -Wl,--wrap=uname,--wrap=adjtimex,--wrap=clock_gettime
# test_collectors_net is the kernel for the netlink, ioctl and perf collectors (tests/fake_kernel.h).
$(BUILD)/tests/test_collectors_net: ALL_LDFLAGS += -Wl,--wrap=socket,--wrap=sendto,--wrap=recv \
	-Wl,--wrap=close,--wrap=ioctl,--wrap=syscall,--wrap=read

$(BUILD)/tests/helpers/%: $(call obj,tests/helpers/%.c) $(ARCHIVES)
	$(call link,$(PKG_LIBS) -lm)

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

$(PY_OBJ): ALL_CFLAGS += $(PY_CFLAGS)

# Python's own symbols are left undefined: the interpreter that imports it has them.
$(PY_EXT): $(PY_OBJ) $(CLIENT_A)
	$(CC) $(ALL_LDFLAGS) -shared -Wl,--exclude-libs,ALL -o $@ $(PY_OBJ) $(CLIENT_A) -lm

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

# ---- running and testing ----------------------------------------------------------------------
run: deps all
	$(BIN)/shmetrics-agent $(RUN_ARGS)

# The whole suite, the way CI runs it.  tests/run.sh prints one result line per
# step and a final "N passed, N failed".
test: deps
	@tests/run.sh

# Only the plain unit tests of the current build (fast loop while developing).
unit-tests: all tests
	@for t in $(TESTS); do echo "== $$t"; $$t || exit 1; done

# ---- installing (docs/operations.md) ----------------------------------------------------------
# SYSCONFDIR is /etc for PREFIX=/usr.
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/shmetrics
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
# Programs users run go to bin/; the agent's children to libexec/shmetrics/.
CHILD_PROGRAMS := $(BIN)/shmetrics-collector $(BIN)/shmetrics-exporter $(BIN)/shmetrics-shipper
USER_PROGRAMS := $(filter-out $(CHILD_PROGRAMS),$(PROGRAMS))
D := $(DESTDIR)

install: all
	install -d $(D)$(PREFIX)/bin $(D)$(PREFIX)/libexec/shmetrics $(D)$(DOCDIR) \
		$(D)$(MANDIR)/man1 $(D)$(SYSCONFDIR)/shmetrics $(D)$(UNITDIR) $(D)$(SYSUSERSDIR) \
		$(D)$(PREFIX)/lib/pkgconfig $(D)$(PREFIX)/include
	install -m 0755 $(USER_PROGRAMS) $(D)$(PREFIX)/bin/
	install -m 0755 $(CHILD_PROGRAMS) $(D)$(PREFIX)/libexec/shmetrics/
	install -m 0644 config/example.json README.md COMPAT.md docs/*.md $(D)$(DOCDIR)/
	install -m 0644 docs/man/*.1 $(D)$(MANDIR)/man1/
	@# An operator's edited configuration is never overwritten.
	test -e $(D)$(SYSCONFDIR)/shmetrics/config.json || \
		install -m 0644 config/default.json $(D)$(SYSCONFDIR)/shmetrics/config.json
	sed -e 's#/usr/bin/#$(PREFIX)/bin/#g' -e 's#/etc/shmetrics/#$(SYSCONFDIR)/shmetrics/#g' \
		-e 's#/usr/share/doc/shmetrics/#$(DOCDIR)/#g' deploy/shmetrics.service \
		>$(D)$(UNITDIR)/shmetrics.service
	chmod 0644 $(D)$(UNITDIR)/shmetrics.service
	install -m 0644 deploy/sysusers.d/shmetrics.conf $(D)$(SYSUSERSDIR)/
	@# The custom-collector library, its header and pkg-config file.
	install -m 0755 $(CLIENT_SO) $(D)$(PREFIX)/lib/
	ln -sf $(CLIENT_SONAME) $(D)$(PREFIX)/lib/libshmetrics.so
	install -m 0644 $(CLIENT_A) $(D)$(PREFIX)/lib/
	install -m 0644 include/shmetrics.h $(D)$(PREFIX)/include/
	install -m 0644 $(CLIENT_PC) $(D)$(PREFIX)/lib/pkgconfig/
	@# The Python package, for Debian's python3.
	install -d $(D)$(PYTHON_SITEDIR)/shmetrics
	install -m 0644 python/shmetrics/__init__.py $(D)$(PYTHON_SITEDIR)/shmetrics/
	install -m 0644 $(PY_EXT) $(D)$(PYTHON_SITEDIR)/shmetrics/

print-python-sitedir:
	@echo $(PYTHON_SITEDIR)

# The configuration in SYSCONFDIR is left in place, like a package's conffile.
uninstall:
	rm -f $(patsubst $(BIN)/%,$(D)$(PREFIX)/bin/%,$(USER_PROGRAMS)) \
		$(D)$(UNITDIR)/shmetrics.service $(D)$(SYSUSERSDIR)/shmetrics.conf \
		$(patsubst docs/man/%,$(D)$(MANDIR)/man1/%,$(wildcard docs/man/*.1)) \
		$(D)$(PREFIX)/lib/$(CLIENT_SONAME) $(D)$(PREFIX)/lib/libshmetrics.so \
		$(D)$(PREFIX)/lib/libshmetrics.a $(D)$(PREFIX)/include/shmetrics.h \
		$(D)$(PREFIX)/lib/pkgconfig/shmetrics.pc
	rm -rf $(D)$(PREFIX)/libexec/shmetrics $(D)$(DOCDIR) $(D)$(PYTHON_SITEDIR)/shmetrics

# ---- deployment, reliability and benchmarks (docs/operations.md, docs/reliability.md) ------
.PHONY: deb fuzz fuzz-short reliability-faults reliability-load reliability-soak \
	bench-collectors bench-top bench-client bench-workers bench-dashboard format vendor-web

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
$(BUILD)/bench/collect_cycle: $(call obj,bench/collect_cycle.c) $(COLLECTORS_A) $(SETTINGS_A) \
		$(FORMAT_A) $(LIB_A)
	$(call link,-lm)

bench-collectors: all $(BUILD)/bench/collect_cycle
	bench/collectors_cost.sh

# The top collector's cycle next to process-exporter on 2000 processes (README).
bench-top: all tests $(BUILD)/bench/collect_cycle
	bench/top_cost.sh

# A synthetic collector for the exporter and remote-write benchmarks (serve), and
# the exporter's render path at 10k to 1M series (render).
$(BUILD)/bench/exporter_synth: $(call obj,bench/exporter_synth.c) $(EXPORTER_A) $(SETTINGS_A) \
		$(FORMAT_A) $(LIB_A)
	$(call link,$(call pkg_libs,$(PKGS_EXPORTER)) -lm)

# ns per shmetrics_inc against a mutex baseline.
$(BUILD)/bench/client_inc: $(call obj,bench/client_inc.c) $(LIB_A)
	$(call link,-lm)

bench-client: $(BUILD)/bench/client_inc
	$(BUILD)/bench/client_inc

# What a reader pays to merge a collector's workers (docs/custom-collectors.md).
$(BUILD)/bench/workers_merge: $(call obj,bench/workers_merge.c) $(LIB_A)
	$(call link,-lm)

# Workers next to prometheus_client's multiprocess mode, same data (README).
bench-workers: all $(BUILD)/bench/workers_merge
	$(BUILD)/bench/workers_merge
	bench/multiprocess_vs_prometheus_client.py

# The dashboard's page size and the exporter's CPU with a browser watching
# (docs/dashboard.md, "Cost").
bench-dashboard: all
	bench/dashboard_cost.sh

# Refreshes web/vendor/ from the versions pinned in web/package-lock.json (npm).
vendor-web:
	scripts/vendor-web.sh

# clang-format (.clang-format) over every C file of the project.
format:
	clang-format -i $$(git ls-files '*.c' '*.h' | grep -v '^tests/fixtures/')

clean:
	rm -rf build python/shmetrics/_shmetrics*.so python/shmetrics/__pycache__

# Header dependencies of this build only (not of the sanitizer or fuzz builds beside it).
-include $(shell find $(BUILD)/obj $(BUILD)/pic -name '*.d' -type f 2>/dev/null)

# forkchat - a pre-fork master/worker chat server.
#
#   make            build build/forkchatd
#   make run        build and run it on scripts/demo.conf (127.0.0.1:2000)
#   make check      install what the tests need, run unit and bats tests
#   make lint       every analyser, zero findings (scripts/lint)
#   make check-asan     the suite again on an ASan+UBSan build
#   make check-valgrind core scenarios under valgrind, children included
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each (default 60)
#   make bench      S1-S5 against forkchatd and a reference server; S6
#                   a cluster of three (needs redis-server)
#   make install    PREFIX=/usr/local DESTDIR= : binary, man pages, units,
#                   example configuration; make uninstall (the directories
#                   install made go too, once empty)
#   make clean

VERSION	 = 0.1.0
PREFIX	?= /usr/local
DESTDIR	?=
SBINDIR	 = $(PREFIX)/sbin
MANDIR	 = $(PREFIX)/share/man
# PREFIX=/usr keeps configuration in /etc, as Debian does.
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
ETCDIR	 = $(SYSCONFDIR)/forkchat
UNITDIR	 = $(PREFIX)/lib/systemd/system

CC	?= cc
CFLAGS	?= -O2 -g
WARN	 = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wcast-qual \
	   -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla \
	   -Wwrite-strings -Wundef -Wnull-dereference -Wimplicit-fallthrough
CPPFLAGS += -D_GNU_SOURCE -DFORKCHAT_VERSION='"$(VERSION)"' -Icommon \
	    $(VARIANT_CPPFLAGS)
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) -MMD -MP

# Bind every symbol at start, then make the tables read-only: a worker
# then never writes to the dynamic linker's pages (each write would be a
# private copy of a page it shares with every other worker).
SERVER_LDFLAGS = -Wl,-z,relro,-z,now

B	 = build
COMMON_SRC = $(wildcard common/*.c)
SERVER_SRC = $(COMMON_SRC) $(wildcard master/*.c) $(wildcard worker/*.c)
COMMON_OBJ = $(COMMON_SRC:%.c=$(B)/%.o)
SERVER_OBJ = $(SERVER_SRC:%.c=$(B)/%.o)
# Every module but the master's main(): what a unit test may link.  An
# archive, so a test pulls in only the modules it calls.  Their headers
# come by -iquote: master/limits.h must not hide <limits.h>.
LIB	   = $(B)/libforkchat.a
LIB_OBJ	   = $(filter-out $(B)/master/main.o,$(SERVER_OBJ))
UNIT_SRC   = $(wildcard tests/unit/test_*.c)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_SRC   = $(wildcard tests/tools/*.c)
TOOL_BIN   = $(TOOL_SRC:tests/tools/%.c=$(B)/tools/%)

all: $(B)/forkchatd

define link_server
	$(CC) $(ALL_CFLAGS) $(SERVER_LDFLAGS) $(LDFLAGS) -o $@ $^
endef
define compile
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<
endef

$(B)/forkchatd: $(SERVER_OBJ)
	$(link_server)

$(B)/%.o: %.c
	$(compile)

$(LIB): $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(B)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -iquote master -iquote worker $(ALL_CFLAGS) \
	    $(LDFLAGS) -o $@ $< $(LIB)

# Test tools may use common/ (resp-probe drives Redis with it).
$(B)/tools/%: tests/tools/%.c $(COMMON_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(COMMON_OBJ)

unit: $(UNIT_BIN)

run: $(B)/forkchatd
	$(B)/forkchatd -c scripts/demo.conf

# What tests/upgrade.bats upgrades to: the server with one macro
# changed -- another version string, and two binaries that cannot take
# the running one over (a snapshot layout it does not read, a channel
# protocol far ahead).  Only the sources that name the macro (grep finds
# them, so a new use is never missed) are compiled again, into
# $(B)/NAME/; the other objects are the server's own.  msg.h and state.h
# only define their macro: a header that used one in code of its own
# would need its includers compiled again too.
VARIANTS = $(B)/next/forkchatd $(B)/next-snap/forkchatd \
	   $(B)/next-chan/forkchatd
# The server's objects for variant NAME ($(1)), where the sources that
# name FORKCHAT_VERSION or a macro of $(2) are compiled in $(B)/NAME/.
variant_obj = $(call variant_pick,$(B)/$(1),\
    $(shell grep -l -w $(addprefix -e ,FORKCHAT_VERSION $(2)) $(SERVER_SRC)))
variant_pick = $(foreach s,$(SERVER_SRC),\
    $(if $(filter $(s),$(2)),$(1)/$(s:.c=.o),$(B)/$(s:.c=.o)))

$(B)/next/%.o: VERSION := $(VERSION)+next
$(B)/next-snap/%.o: VERSION := $(VERSION)+snap
$(B)/next-snap/%.o: VARIANT_CPPFLAGS = -DSNAP_VERSION=99
$(B)/next-chan/%.o: VERSION := $(VERSION)+chan
$(B)/next-chan/%.o: VARIANT_CPPFLAGS = -DMSG_VERSION=99
$(B)/next/%.o: %.c
	$(compile)
$(B)/next-snap/%.o: %.c
	$(compile)
$(B)/next-chan/%.o: %.c
	$(compile)
$(B)/next/forkchatd: $(call variant_obj,next)
	$(link_server)
$(B)/next-snap/forkchatd: $(call variant_obj,next-snap,SNAP_VERSION)
	$(link_server)
$(B)/next-chan/forkchatd: $(call variant_obj,next-chan,MSG_VERSION)
	$(link_server)

check: $(B)/forkchatd $(UNIT_BIN) $(TOOL_BIN) $(VARIANTS)
	scripts/check $(UNIT_BIN)

lint:
	scripts/lint

check-asan:
	scripts/check-asan

check-valgrind: $(B)/forkchatd $(TOOL_BIN)
	scripts/check-valgrind

fuzz:
	scripts/fuzz

bench-tools:
	$(MAKE) -C tests/bench

# gnuplot draws the plot, redis-server runs S6; without them (no network)
# the tables still come, with S6 marked as not run.
bench: $(B)/forkchatd bench-tools
	-scripts/deps bench
	tests/bench/run

# The directories install makes that were not there are listed in
# MANIFEST, so that uninstall takes away those it left empty, and no
# other.
INSTALL_DIRS = $(SBINDIR) $(MANDIR)/man5 $(MANDIR)/man7 $(MANDIR)/man8 \
	       $(ETCDIR) $(UNITDIR)
MANIFEST = $(DESTDIR)$(ETCDIR)/.installed-dirs

install: $(B)/forkchatd
	@new=; for d in $(INSTALL_DIRS); do \
	    while [ -n "$$d" ] && [ ! -d "$(DESTDIR)$$d" ]; do \
	        new="$$new $$d"; d=$${d%/*}; \
	    done; \
	done; \
	install -d $(addprefix $(DESTDIR),$(INSTALL_DIRS)) && \
	for d in $$new; do echo "$$d"; done | sort -u >> $(MANIFEST)
	install -m 755 $(B)/forkchatd $(DESTDIR)$(SBINDIR)/forkchatd
	install -m 644 man/forkchatd.8 $(DESTDIR)$(MANDIR)/man8/forkchatd.8
	install -m 644 man/forkchatd.conf.5 \
	    $(DESTDIR)$(MANDIR)/man5/forkchatd.conf.5
	install -m 644 man/forkchat.7 $(DESTDIR)$(MANDIR)/man7/forkchat.7
	install -m 644 scripts/forkchatd.conf \
	    $(DESTDIR)$(ETCDIR)/forkchatd.conf.example
	# An operator's own configuration is never overwritten.
	[ -e $(DESTDIR)$(ETCDIR)/forkchatd.conf ] || install -m 644 \
	    scripts/forkchatd.conf $(DESTDIR)$(ETCDIR)/forkchatd.conf
	for u in forkchatd.service forkchatd.socket; do \
	    sed -e 's|/usr/local/sbin|$(SBINDIR)|g' \
	        -e 's|/usr/local/etc/forkchat|$(ETCDIR)|g' \
	        scripts/$$u > $(DESTDIR)$(UNITDIR)/$$u && \
	    chmod 644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/forkchatd \
	    $(DESTDIR)$(MANDIR)/man8/forkchatd.8 \
	    $(DESTDIR)$(MANDIR)/man5/forkchatd.conf.5 \
	    $(DESTDIR)$(MANDIR)/man7/forkchat.7 \
	    $(DESTDIR)$(ETCDIR)/forkchatd.conf.example \
	    $(DESTDIR)$(UNITDIR)/forkchatd.service \
	    $(DESTDIR)$(UNITDIR)/forkchatd.socket
	@# the deepest first; one that is not empty stays
	@if [ -f $(MANIFEST) ]; then \
	    dirs=$$(awk '{ print length($$0), $$0 }' $(MANIFEST) | \
	        sort -rn | cut -d' ' -f2-); \
	    rm -f $(MANIFEST); \
	    for d in $$dirs; do rmdir "$(DESTDIR)$$d" 2>/dev/null || :; done; \
	fi
	@echo "kept $(DESTDIR)$(ETCDIR)/forkchatd.conf, if any: remove it by hand"

clean:
	rm -rf $(B)

.PHONY: all unit run check lint check-asan check-valgrind fuzz bench \
	bench-tools install uninstall clean

-include $(SERVER_OBJ:.o=.d) $(UNIT_BIN:=.d) $(TOOL_BIN:=.d) \
	 $(wildcard $(B)/next*/*/*.d)

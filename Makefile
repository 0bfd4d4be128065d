# Build and install the era tools, their man pages and shell completions.
#
#   make                      # release build (cargo build --release --locked)
#   make install              # into /usr/local: bin/, share/man/man8/, completions
#   make install PREFIX=/usr DESTDIR=/tmp/pkg
#   make install-docs         # man pages and completions only (no build)
#   make uninstall
#
# The binaries are taken from cargo's target directory (CARGO_TARGET_DIR when set, else
# what cargo reports, normally target/) and installed stripped of their debug info
# (INSTALL_STRIP_FLAG= keeps it, for a packager who splits it off).

PREFIX ?= /usr/local
DESTDIR ?=
CARGO ?= cargo
INSTALL_STRIP_FLAG ?= -s

# Where cargo builds: the environment's CARGO_TARGET_DIR, else cargo's own answer (which
# also follows a build.target-dir in .cargo/config.toml).
TARGET_DIR = $(or $(CARGO_TARGET_DIR),$(shell $(CARGO) metadata --format-version 1 --no-deps 2>/dev/null | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p'),target)

BINDIR := $(DESTDIR)$(PREFIX)/bin
MANDIR := $(DESTDIR)$(PREFIX)/share/man/man8
BASHDIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR := $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR := $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

# Every tool that has completions (one per binary).
TOOLS := $(patsubst completions/%.bash,%,$(wildcard completions/*.bash))

.PHONY: all install install-bin install-docs uninstall test

all:
	$(CARGO) build --release --locked

install: install-bin install-docs

install-bin: all
	install -d $(BINDIR)
	for t in $(TOOLS); do install $(INSTALL_STRIP_FLAG) -m 0755 "$(TARGET_DIR)/release/$$t" $(BINDIR)/$$t; done

install-docs:
	install -d $(MANDIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	install -m 0644 man/*.8 $(MANDIR)/
	for t in $(TOOLS); do \
		install -m 0644 completions/$$t.bash $(BASHDIR)/$$t; \
		install -m 0644 completions/_$$t $(ZSHDIR)/_$$t; \
		install -m 0644 completions/$$t.fish $(FISHDIR)/$$t.fish; \
	done

uninstall:
	for t in $(TOOLS); do \
		rm -f $(BINDIR)/$$t $(BASHDIR)/$$t $(ZSHDIR)/_$$t $(FISHDIR)/$$t.fish; \
	done
	rm -f $(MANDIR)/era_*.8

test:
	$(CARGO) test --locked

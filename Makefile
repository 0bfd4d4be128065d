# Build and install the era tools, their man pages and shell completions.
#
#   make                      # release build (cargo build --release --locked)
#   make install              # into /usr/local: bin/, share/man/man8/, completions
#   make install PREFIX=/usr DESTDIR=/tmp/pkg
#   make install-docs         # man pages and completions only (no build)
#   make uninstall

PREFIX ?= /usr/local
DESTDIR ?=
CARGO ?= cargo

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
	for t in $(TOOLS); do install -m 0755 target/release/$$t $(BINDIR)/$$t; done

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

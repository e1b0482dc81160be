# zipline-tray. `make run` starts the app, `make test` runs every test;
# both install what they need on a fresh Debian/Ubuntu machine.

GO       ?= go
# One tag set for every build and test, so the cgo (Fyne) build is paid once.
TAGS     := migrated_fynedo
BIN      := bin/zipline-tray
CLI_BIN  := bin/zipline-tray-cli
LDFLAGS  := -s -w
# A count, not a duration: with a duration, Go 1.26's fuzz coordinator can
# report "context deadline exceeded" at the deadline on a busy machine
# though nothing failed (go.dev/issue/75804, fixed in Go 1.27).
FUZZTIME ?= 10000x

export CGO_ENABLED ?= 1

.PHONY: all deps build build-cli run test test-go fuzz vet fmt-check bench clean

all: build

deps:
	@scripts/deps.sh

build: deps
	$(GO) build -tags $(TAGS) -ldflags "$(LDFLAGS)" -o $(BIN) .

# The CLI-only binary for servers: no cgo, no GUI toolkit.
build-cli:
	CGO_ENABLED=0 $(GO) build -tags $(TAGS),nogui -ldflags "$(LDFLAGS)" -o $(CLI_BIN) .

run: build
	./$(BIN) $(ARGS)

vet:
	$(GO) vet -tags $(TAGS) ./...
	CGO_ENABLED=0 $(GO) vet -tags $(TAGS),nogui ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Every test, with the race detector, inside a private session bus with a
# real Secret Service (gnome-keyring) and a virtual X display; then short
# fuzz runs, and the Windows GUI build and macOS/Windows vet so that other
# systems never break silently.
test: deps fmt-check vet build-cli
	scripts/testenv.sh $(GO) test -race -tags $(TAGS) -count=1 -timeout 20m ./...
	$(MAKE) fuzz
	$(MAKE) cross

# Short runs of each fuzz target (their seed corpora also run in `make test`).
# Fuzzing needs no GUI, so it runs the fast cgo-free build.
fuzz:
	@grep -l --include='*_test.go' -r '^func Fuzz' . | xargs -r -n1 dirname | sort -u | while read -r dir; do \
	  for f in $$(grep -h -o '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go | cut -c6-); do \
	    echo "fuzz $$dir $$f"; \
	    CGO_ENABLED=0 $(GO) test -tags $(TAGS),nogui -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$dir || exit 1; \
	  done; \
	done

bench: deps build-cli
	scripts/bench.sh

clean:
	rm -rf bin

# PNGs of the app's windows for the docs, taken headless (Xvfb, a fake tray
# host and a fake Zipline): docs/screenshots/*.png.
.PHONY: screenshots demo
screenshots: build
	scripts/screenshots.sh $(BIN)

# The whole app on your desktop against a fake Zipline on loopback, with a
# throw-away profile and a watched demo folder. Ctrl-C stops everything.
demo: build
	scripts/demo.sh $(BIN)

# Issue 5's desktop figures: start-up to tray ready, idle CPU and RSS of the
# app beside cmd/minitray (Fyne's floor), under Xvfb with a fake tray host.
# BENCH_GUI_SECS (60), BENCH_GUI_RUNS (5), BENCH_GUI_SETTLE (5) tune it.
.PHONY: bench-gui
bench-gui: deps
	scripts/bench-gui.sh

# ---- Issue 6: install for the current user, and cross-platform builds ----
# `make install`: the binary in ~/.local/bin, a launcher (.desktop, so the
# app is in the menu and in "Open with… → Other application" for any file;
# no MimeType, so it never becomes a default) and the icon.
# `make uninstall-files` removes those three; `zipline-tray uninstall` also
# removes the sign-in, the login entry and the local state.
INSTALL_BIN  ?= $(HOME)/.local/bin
INSTALL_DATA ?= $(if $(XDG_DATA_HOME),$(XDG_DATA_HOME),$(HOME)/.local/share)
DESKTOP_FILE := io.github.zipline_tray.desktop

.PHONY: install uninstall-files cross cross-windows cross-vet
install: build
	install -D -m 755 $(BIN) $(INSTALL_BIN)/zipline-tray
	install -D -m 644 packaging/linux/$(DESKTOP_FILE) $(INSTALL_DATA)/applications/$(DESKTOP_FILE)
	install -D -m 644 assets/icon.png $(INSTALL_DATA)/icons/hicolor/256x256/apps/zipline-tray.png
	-@command -v update-desktop-database >/dev/null && update-desktop-database -q $(INSTALL_DATA)/applications || true
	@case ":$$PATH:" in *":$(INSTALL_BIN):"*) ;; *) echo "note: $(INSTALL_BIN) is not on your PATH; add it so the launcher and 'zipline-tray' commands find the program." ;; esac
	@echo "installed $(INSTALL_BIN)/zipline-tray; start it from the app menu, or run: zipline-tray autostart on"

uninstall-files:
	rm -f $(INSTALL_BIN)/zipline-tray $(INSTALL_DATA)/applications/$(DESKTOP_FILE) \
	  $(INSTALL_DATA)/icons/hicolor/256x256/apps/zipline-tray.png
	-@command -v update-desktop-database >/dev/null && update-desktop-database -q $(INSTALL_DATA)/applications || true

# `make cross`: the full Windows GUI binary (cgo, mingw-w64), then vet of
# what builds without cgo for macOS (everything but the Fyne packages, which
# need Apple's toolchain) and Windows.
CROSS_DIR := bin/cross
cross: cross-windows cross-vet

# -H=windowsgui links a GUI-subsystem exe, so starting the app from Explorer
# or at sign-in opens no console window; the CLI attaches to the console it
# was started from (internal/console). `fyne package --os windows` adds it too.
cross-windows: deps
	GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc \
	  $(GO) build -tags $(TAGS) -ldflags "$(LDFLAGS) -H=windowsgui" -o $(CROSS_DIR)/zipline-tray.exe .

# The tray test harness (internal/traytest) and what uses it are Linux-only
# (D-Bus, Xvfb, syscall.SysProcAttr.Pdeathsig): internal/notify's tests use
# it, so that package is only compiled, not vetted; app needs cgo on macOS.
CROSS_SKIP := -e '/internal/traytest$$' -e '/cmd/faketray$$' -e '/cmd/benchgui$$' -e '/internal/guitest$$' -e '/internal/notify$$'
cross-vet:
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) vet -tags $(TAGS),nogui $$($(GO) list -tags $(TAGS),nogui ./... | grep -v $(CROSS_SKIP) -e '/app$$')
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags $(TAGS),nogui ./internal/notify/
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) vet -tags $(TAGS),nogui $$($(GO) list -tags $(TAGS),nogui ./... | grep -v $(CROSS_SKIP))
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -tags $(TAGS),nogui ./internal/notify/
	# 32-bit: stat fields are int32 there.
	GOOS=linux GOARCH=386 CGO_ENABLED=0 $(GO) vet -tags $(TAGS),nogui $$($(GO) list -tags $(TAGS),nogui ./... | grep -v $(CROSS_SKIP) -e '/app$$')

# `make package`: a release archive for Linux (zipline-tray.tar.xz: binary,
# launcher, icon, and a Makefile that installs them) with Fyne's packaging
# tool, which reads FyneApp.toml. Install the tool with
#   go install fyne.io/tools/cmd/fyne@v1.7.4
FYNE ?= $(shell command -v fyne 2>/dev/null || echo $(shell $(GO) env GOPATH)/bin/fyne)
.PHONY: package
package: deps
	@[ -x "$(FYNE)" ] || { echo "make package needs Fyne's packaging tool: go install fyne.io/tools/cmd/fyne@v1.7.4"; exit 1; }
	$(FYNE) package --os linux --release --name zipline-tray
	@ls -l zipline-tray.tar.xz

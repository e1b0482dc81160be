# zipline-tray. `make run` starts the app, `make test` runs every test;
# both install what they need on a fresh Debian/Ubuntu machine.

GO       ?= go
# One tag set for every build and test, so the cgo (Fyne) build is paid once.
TAGS     := migrated_fynedo
BIN      := bin/zipline-tray
CLI_BIN  := bin/zipline-tray-cli
LDFLAGS  := -s -w
FUZZTIME ?= 5s

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
# real Secret Service (gnome-keyring) and a virtual X display.
test: deps fmt-check vet build-cli
	scripts/testenv.sh $(GO) test -race -tags $(TAGS) -count=1 -timeout 20m ./...
	$(MAKE) fuzz

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

# Pregón's tasks. The first two are the ones a newcomer needs:
#   make run    build, start Pregón with its own Redis, and send a demo release
#   make test   no binaries, vet, gofmt, staticcheck, tests with -race, a short fuzzing,
#               govulncheck, and the demo as a smoke test

GO ?= go

.PHONY: run test build bench lint clean clean-data help

run:
	scripts/run.sh

test:
	scripts/test.sh

build:
	$(GO) build -o bin/pregon ./cmd/pregon

# The end-to-end benchmark (cmd/pregon-bench): builds bin/, starts its own Redis,
# SMTP sink and fake Telegram API, prints one table and writes it, with profiles
# and logs, to bench-out/. Timings are reported, never asserted.
# BENCH_FLAGS="-million" adds 1,000,000 recipients; go run ./cmd/pregon-bench -h lists the flags.
BENCH_FLAGS ?=
bench:
	$(GO) run ./cmd/pregon-bench $(BENCH_FLAGS)

# The quick checks: no committed binary, gofmt, go vet, and staticcheck when
# it is on PATH (make test installs the pinned one by itself).
lint:
	scripts/check-binaries.sh
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "these files need gofmt -w:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null 2>&1; then staticcheck ./...; else echo "staticcheck is not on PATH: skipped (make test installs it)"; fi

# Removes the build output and the demo's outbox. The demo's Redis data,
# token and log stay in .data/ (make clean-data removes them; stop make run first).
clean:
	rm -rf bin outbox

clean-data:
	rm -rf .data

help:
	@echo "make run | test | build | bench | lint | clean | clean-data"

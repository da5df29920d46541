# Pregón's tasks. The first two are the ones a newcomer needs:
#   make run    build, start Pregón with its own Redis, and send a demo release
#   make test   vet, gofmt, tests with -race, a short fuzzing, and the demo as a smoke test

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

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "these files need gofmt -w:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Removes the build output and the demo's outbox. The demo's Redis data,
# token and log stay in .data/ (make clean-data removes them; stop make run first).
clean:
	rm -rf bin outbox

clean-data:
	rm -rf .data

help:
	@echo "make run | test | build | bench | lint | clean | clean-data"

# Parley. `make run` starts the all-in-one dev server; `make test` installs
# what is missing, starts the services tests need and runs every test.
SHELL := /bin/bash
GO ?= go
PKGS := ./...
FUZZTIME ?= 20s
BIN := bin/parley

.PHONY: run test deps services build vet fmt-check fuzz bench clean

## run: start `parley dev` (SQLite, embedded Redis, local object store, worker) on 127.0.0.1:8080
run: deps
	$(GO) run ./cmd/parley dev $(ARGS)

## test: deps + services, then gofmt, go vet, go test -race, a short fuzz run
test: deps services fmt-check vet
	$(GO) test -race -count=1 -timeout 30m $(PKGS)
	$(MAKE) --no-print-directory fuzz

deps:
	@bash deploy/deps.sh

services:
	@bash deploy/services.sh

build:
	$(GO) build -o $(BIN) ./cmd/parley

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## fuzz: a short run of each fuzz target over untrusted input
fuzz:
	@bash deploy/fuzz.sh $(FUZZTIME)

## bench: the benchmarks docs/benchmarks.md quotes
bench: deps services
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

clean:
	rm -rf bin data

# Parley. `make run` starts the all-in-one dev server; `make test` installs
# what is missing, starts the services tests need and runs every test.
SHELL := /bin/bash
GO ?= go
PKGS := ./...
FUZZTIME ?= 20s
BIN := bin/parley

.PHONY: run test deps services build vet fmt-check fuzz bench clean web web-test deploy-check

## run: start `parley dev` (SQLite, embedded Redis, local object store, worker) on 127.0.0.1:8080
run: deps web
	$(GO) run ./cmd/parley dev $(ARGS)

## test: deps + services, then gofmt, go vet, go test -race, a short fuzz run, the
## SDK and browser tests (web-test),
## and the checks of what deploy/ ships (their own module: deploy/check)
test: deps services fmt-check vet
	$(GO) test -race -count=1 -timeout 30m $(PKGS)
	$(MAKE) --no-print-directory fuzz
	$(MAKE) --no-print-directory web-test
	$(MAKE) --no-print-directory deploy-check

## deploy-check: Helm chart (lint, render, strict decode), plain manifests
## generated from it, dashboard and alert rules (promtool, metric names),
## compose file. After editing deploy/, run deploy/generate.sh.
deploy-check:
	cd deploy/check && $(GO) vet ./... && $(GO) test -count=1 ./...

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

## web: build the SDK (types generated from docs/openapi.json) and the web
## client into web/dist, which go build embeds
web: deps
	cd web && npm run --silent build

## web-test: SDK tests and browser tests (Debian's Chromium) against a real
## parley dev built with the web client
web-test: deps web
	$(GO) build -o bin/parley-webtest ./cmd/parley
	cd web && PARLEY_BIN="$(CURDIR)/bin/parley-webtest" npm test --silent

## fuzz: a short run of each fuzz target over untrusted input
fuzz:
	@bash deploy/fuzz.sh $(FUZZTIME)

## bench: the benchmarks docs/benchmarks.md quotes
bench: deps services
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

clean:
	rm -rf bin data

# ecli — see `make help`.
GO        ?= go
CLANG     ?= clang-19
STRIP     ?= llvm-strip-19
BIN       := bin/ecli
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
export CGO_ENABLED := 0

.DEFAULT_GOAL := help
.PHONY: help build run test test-privileged check fuzz lint bench clean

help: ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

build: ## build bin/ecli (static)
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./ecli

run: build ## build and run the built-in tcpconnlat (needs root)
	./$(BIN) run tcpconnlat $(ARGS)

test: ## all tests (as root, privileged ones too); pure packages also under the race detector
	CGO_ENABLED=1 $(GO) test -race -count=1 ./runner/decode/... ./btfexport/...
	$(GO) test -count=1 -timeout 30m ./...

test-privileged: ## every test, as root; privileged tests fail instead of skipping
	ECLI_TEST_PRIVILEGED=1 $(MAKE) --no-print-directory test

fuzz: ## run each fuzz target briefly
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 15s ./runner
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 15s ./runner/decode

lint: ## gofmt + go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

bench: ## benchmarks (decoder; see docs/benchmarks.md)
	$(GO) test -run '^$$' -bench . -benchmem ./runner/decode/
	$(GO) test -run '^$$' -bench Startup -benchmem -benchtime 5x ./runner/
	$(GO) test -run '^$$' -bench StackSample -benchmem ./runner/

check: lint test-privileged fuzz check-packages check-vmtest ## what CI runs (as root): everything, incl. the stock-kernel lane

clean: ## remove build outputs
	rm -rf bin

-include mk/*.mk

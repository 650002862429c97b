# The pipeline benchmark (docs/benchmarks.md): the storm package of bench/storm/ (built
# like every package, committed, not a tool: not in packages/), a generator and a
# hand-written cilium/ebpf reader in bench/, and bench/run, which measures ecli beside
# bpftrace and the reader and prints the table. Needs root and bpftrace.
BENCH_PACKAGES := bench/storm/storm.json
$(eval $(call ecli_package,bench/storm/storm.json,bench/storm/storm.bpf.c))
packages: $(BENCH_PACKAGES)

BENCH_OUT ?= bench/out
PROFILE ?=
BENCH_ROUNDS ?= 3

.PHONY: bench bench-go
bench-go: ## Go benchmarks only (decoder, symbolizer, runner start-up)
	$(GO) test -run '^$$' -bench . -benchmem ./runner/decode/ ./runner/symbolize/
	$(GO) test -run '^$$' -bench Startup -benchmem -benchtime 5x ./runner/
	$(GO) test -run '^$$' -bench StackSample -benchmem ./runner/

bench: build $(BENCH_PACKAGES) ## the five measurements of docs/benchmarks.md, side by side with bpftrace (root); PROFILE=1 writes pprof profiles
	@mkdir -p $(BENCH_OUT)
	$(GO) build -o $(BENCH_OUT)/gen ./bench/gen
	$(GO) build -o $(BENCH_OUT)/reader ./bench/reader
	$(GO) run ./bench/run -ecli $(BIN) -out $(BENCH_OUT) -rounds $(BENCH_ROUNDS) $(if $(PROFILE),-profile)

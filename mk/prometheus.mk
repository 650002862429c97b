# Prometheus metrics (runner/metrics, ecli run --metrics): the test package of the real
# Prometheus test (test/metrics), built like every package.
.PHONY: test-metrics
$(eval $(call ecli_package,test/metrics/testdata/execlat/execlat.json,test/metrics/testdata/execlat/execlat.bpf.c))
packages: test/metrics/testdata/execlat/execlat.json

test-metrics: ## ecli run --metrics scraped by a real Prometheus (needs root and Debian's prometheus)
	$(GO) test -count=1 ./runner/metrics/ ./test/metrics/

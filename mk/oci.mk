# OCI registry tests: a real docker-registry on 127.0.0.1 (see docs/oci.md).
.PHONY: test-oci
test-oci: ## push/pull/login tests against a local docker-registry (library + CLI)
	$(GO) test -count=1 ./ecli/internal/oci/...
	$(GO) test -count=1 -run '^TestCLI(PushPullInspect|Login)$$' ./ecli

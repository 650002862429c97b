# Test packages of the runner's own end-to-end tests, built like every package.
RUNNER_TEST_PACKAGES := runner/testdata/types/types.json
$(eval $(call ecli_package,runner/testdata/types/types.json,runner/testdata/types/types.bpf.c))
packages: $(RUNNER_TEST_PACKAGES)

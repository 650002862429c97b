# Test packages of the runner's own end-to-end tests, built like every package.
RUNNER_TEST_PACKAGES := runner/testdata/types/types.json
$(eval $(call ecli_package,runner/testdata/types/types.json,runner/testdata/types/types.bpf.c))
packages: $(RUNNER_TEST_PACKAGES)
RUNNER_TEST_PACKAGES += runner/testdata/hist/hist.json
$(eval $(call ecli_package,runner/testdata/hist/hist.json,runner/testdata/hist/hist.bpf.c))
packages: runner/testdata/hist/hist.json
RUNNER_TEST_PACKAGES += runner/testdata/badprog/badprog.json
$(eval $(call ecli_package,runner/testdata/badprog/badprog.json,runner/testdata/badprog/badprog.bpf.c))
packages: runner/testdata/badprog/badprog.json
RUNNER_TEST_PACKAGES += runner/testdata/lost/lost.json
$(eval $(call ecli_package,runner/testdata/lost/lost.json,runner/testdata/lost/lost.bpf.c))
packages: runner/testdata/lost/lost.json
RUNNER_TEST_PACKAGES += runner/testdata/pinned/pinned.json
$(eval $(call ecli_package,runner/testdata/pinned/pinned.json,runner/testdata/pinned/pinned.bpf.c))
packages: runner/testdata/pinned/pinned.json

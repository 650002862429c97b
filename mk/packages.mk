# Packages: every examples/<tool>/<tool>.bpf.c (+ optional <tool>.h) -> packages/<tool>.json,
# compiled with the host's clang-19 by docker/build-package.sh (the same script the compile
# image runs, so both give identical bytes). See docs/compile.md.
.PHONY: packages check-packages btfexport

BTFEXPORT ?= bin/btfexport
BUILD_PACKAGE := docker/build-package.sh
VMLINUX_H := include/vmlinux/x86/vmlinux.h

btfexport: $(BTFEXPORT) ## build bin/btfexport (static)

# Always rebuilt (go build is a no-op when nothing changed), so packages follow btfexport's
# sources; every fragment that runs btfexport depends on $(BTFEXPORT).
$(BTFEXPORT): FORCE
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BTFEXPORT) ./btfexport/cmd/btfexport

.PHONY: FORCE
FORCE:

# ecli_package(OUT.json, SRC.bpf.c[, HEADER.h]): a rule building one package. Other areas
# (test programs) reuse it:  $(eval $(call ecli_package,testdata/x/x.json,testdata/x/x.bpf.c))
# Without a third argument, SRC's sibling <name>.h is the header when it exists.
define ecli_package
ECLI_PACKAGE_OUTPUTS += $(1)
$(1): $(2) $(or $(3),$(wildcard $(patsubst %.bpf.c,%.h,$(2)))) $(BTFEXPORT) $(BUILD_PACKAGE) $(VMLINUX_H)
	CLANG=$(CLANG) STRIP=$(STRIP) BTFEXPORT=$(BTFEXPORT) $(BUILD_PACKAGE) -o $(1) $(2) $(or $(3),$(wildcard $(patsubst %.bpf.c,%.h,$(2))))
endef

EXAMPLE_TOOLS := $(notdir $(patsubst %/,%,$(dir $(wildcard examples/*/*.bpf.c))))
EXAMPLE_TOOLS := $(foreach t,$(EXAMPLE_TOOLS),$(if $(wildcard examples/$(t)/$(t).bpf.c),$(t)))
PACKAGES := $(foreach t,$(EXAMPLE_TOOLS),packages/$(t).json)
$(foreach t,$(EXAMPLE_TOOLS),$(eval $(call ecli_package,packages/$(t).json,examples/$(t)/$(t).bpf.c)))

packages: $(PACKAGES) ## compile examples/<tool>/ into packages/<tool>.json (host clang-19)

# Every package built with ecli_package (packages/ and test packages elsewhere) must be
# committed exactly as `make packages` writes it.
check-packages: ## rebuild every package and fail if one differs from what is committed
	$(MAKE) --no-print-directory --always-make packages
	@out="$$(git status --porcelain -- packages/ $(ECLI_PACKAGE_OUTPUTS))"; \
	  if [ -n "$$out" ]; then echo "stale packages (run make packages and commit):"; echo "$$out"; exit 1; fi

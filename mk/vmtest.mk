# Stock-kernel lane (issue 7): the privileged tests on Debian's 5.10, 6.1 and 6.12 kernels
# under qemu TCG. See docs/kernels.md and test/vm/README.md.
.PHONY: vmtest vmtest-docs attach-objs check-attach-objs check-vmtest

# Kernels to boot: 5.10 (bullseye), 6.1 (bookworm), 6.12 (trixie).
KERNELS       ?= 5.10 6.1 6.12
# Test packages run inside each VM; packages without tests are skipped.
VMTEST_PKGS   ?= ./test/attach ./runner ./examples/...
# Where the kernels are cached (outside the repository, kept across runs).
VMTEST_CACHE  ?= /var/cache/ecli-vmtest
# Build directory for test binaries, the initramfs and the serial logs.
VMTEST_OUT    ?= test/vm/out
# Per-kernel timeout (seconds) and how many kernels boot at once (one per core: TCG runs a
# -smp 1 guest on one host thread, and the tools' timing tests need that core to themselves).
VMTEST_TIMEOUT ?= 900
VMTEST_JOBS   ?= $(shell nproc)
# Kernel modules loaded in each VM (with their dependencies).
VMTEST_MODULES ?= sch_ingress cls_bpf sch_netem loop

ATTACH_SRCS := $(wildcard testdata/attach/*.bpf.c)
ATTACH_OBJS := $(ATTACH_SRCS:.bpf.c=.bpf.o)
ATTACH_PKGS := $(ATTACH_SRCS:.bpf.c=.json)

# The per-attach-type test packages (test/attach): object, then package.json via btfexport.
attach-objs: $(ATTACH_PKGS) testdata/attach/uprobe_target ## rebuild testdata/attach objects and packages

# Built by docker/build-package.sh like every package: relative paths only, so the objects
# hold no path of the build machine and rebuild byte for byte anywhere.
testdata/attach/%.json: testdata/attach/%.bpf.c testdata/attach/common.h testdata/attach/event.h include/vmlinux/x86/vmlinux.h $(BTFEXPORT) $(BUILD_PACKAGE)
	CLANG=$(CLANG) STRIP=$(STRIP) BTFEXPORT=$(BTFEXPORT) $(BUILD_PACKAGE) -o $@ -b $(@:.json=.bpf.o) $< $(if $(filter ringbuf perfbuf,$*),testdata/attach/event.h)

testdata/attach/%.bpf.o: testdata/attach/%.json ;

testdata/attach/uprobe_target: testdata/attach/uprobe_target.c
	gcc -static -nostdlib -O2 -fno-pie -no-pie -o $@ $<

vmtest: ## privileged tests on Debian stock kernels under qemu (KERNELS="5.10 6.1 6.12")
	VMTEST_CACHE=$(VMTEST_CACHE) $(GO) run ./test/vm -kernels "$(KERNELS)" -pkgs "$(VMTEST_PKGS)" \
		-out $(VMTEST_OUT) -timeout $(VMTEST_TIMEOUT)s -jobs $(VMTEST_JOBS) -modules "$(VMTEST_MODULES)"

vmtest-docs: ## run the lane on every kernel and rewrite docs/kernels.md from its results
	VMTEST_CACHE=$(VMTEST_CACHE) $(GO) run ./test/vm -kernels "$(KERNELS)" -pkgs "$(VMTEST_PKGS)" \
		-out $(VMTEST_OUT) -timeout $(VMTEST_TIMEOUT)s -jobs $(VMTEST_JOBS) -modules "$(VMTEST_MODULES)" -docs docs/kernels.md

check-attach-objs: ## rebuild testdata/attach from source and fail if the committed files differ
	$(MAKE) -B attach-objs
	git diff --exit-code -- testdata/attach

check-vmtest: check-attach-objs vmtest ## the lane as `make check` runs it

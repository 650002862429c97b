# The compile image (Dockerfile), built in two stages: btfexport with Go from DOCKER_GO_BASE,
# then clang-19 on DOCKER_BASE. Each base defaults to the local image .ci/setup.d/docker.sh
# builds without a registry (ecli-go:bookworm, ecli-base:bookworm) when present, else to the
# Dockerfile's own default; `docker build -t ecli-compile .` is the same build with the defaults.
.PHONY: docker-image

DOCKER ?= docker
DOCKER_IMAGE ?= ecli-compile
docker_local_or = $(shell $(DOCKER) image inspect $(1) >/dev/null 2>&1 && echo $(1) || echo $(2))
DOCKER_BASE ?= $(call docker_local_or,ecli-base:bookworm,debian:bookworm-slim)
DOCKER_GO_BASE ?= $(call docker_local_or,ecli-go:bookworm,golang:1.26-bookworm)

docker-image: ## build the compile image (docker run -v $$(pwd):/src $(DOCKER_IMAGE))
	$(DOCKER) build -q --build-arg BASE=$(DOCKER_BASE) --build-arg GO_BASE=$(DOCKER_GO_BASE) -t $(DOCKER_IMAGE) .

# The ecli runtime image (docker/ecli.Dockerfile): the static bin/ecli on ECLI_IMAGE_BASE
# (as DOCKER_BASE: the local ecli-base:bookworm when present). The context is a tar stream of
# the Dockerfile, the binary and the host's CA bundle.
.PHONY: ecli-image
ECLI_IMAGE ?= ecli
ECLI_IMAGE_BASE ?= $(DOCKER_BASE)
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt

ecli-image: build ## build the ecli runtime image (docker run --privileged --pid=host -v /sys/kernel:/sys/kernel $(ECLI_IMAGE) run TOOL)
	tar -c --dereference -C $(CURDIR)/docker ecli.Dockerfile -C $(CURDIR)/$(dir $(BIN)) $(notdir $(BIN)) -C $(dir $(CA_BUNDLE)) $(notdir $(CA_BUNDLE)) | \
	  $(DOCKER) build -q --build-arg BASE=$(ECLI_IMAGE_BASE) -f ecli.Dockerfile -t $(ECLI_IMAGE) -

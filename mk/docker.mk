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

# The compile image (Dockerfile). BASE defaults to the local debootstrap'd ecli-base:bookworm
# when present (.ci/setup.d/docker.sh builds it), else debian:bookworm-slim.
.PHONY: docker-image

DOCKER ?= docker
BTFEXPORT ?= bin/btfexport
DOCKER_IMAGE ?= ecli-compile
DOCKER_BASE ?= $(shell $(DOCKER) image inspect ecli-base:bookworm >/dev/null 2>&1 && echo ecli-base:bookworm || echo debian:bookworm-slim)

docker-image: $(BTFEXPORT) ## build the compile image (docker run -v $$(pwd):/src $(DOCKER_IMAGE))
	$(DOCKER) build -q --build-arg BASE=$(DOCKER_BASE) -t $(DOCKER_IMAGE) .

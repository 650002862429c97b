# The ecli compile image: turns the *.bpf.c in a folder into package.json, like eunomia's ecc.
#
#   docker build -t ecli-compile .          # from a clone: nothing else to build first
#   make docker-image                       # the same, with the bases CI builds locally
#   docker run -it --user $(id -u):$(id -g) -v $(pwd):/src ecli-compile
#
# Two stages. The first builds btfexport (static, CGO_ENABLED=0, -trimpath) with Go from
# GO_BASE; the second is BASE, any Debian bookworm image, with clang-19 and that binary. The
# same clang-19 and Go as the host give byte-identical packages (docs/compile.md). CI builds
# both bases without a registry (.ci/setup.d/docker.sh) and mk/docker.mk passes them.
ARG GO_BASE=golang:1.26-bookworm
ARG BASE=debian:bookworm-slim

FROM ${GO_BASE} AS btfexport
WORKDIR /build
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -trimpath -o /out/btfexport ./btfexport/cmd/btfexport

FROM ${BASE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      clang-19 llvm-19 libbpf-dev \
 && rm -rf /var/lib/apt/lists/*
COPY include/vmlinux/ /usr/share/ecli/include/vmlinux/
COPY include/ecli/ /usr/share/ecli/include/ecli/
COPY --from=btfexport /out/btfexport /usr/local/bin/btfexport
COPY docker/build-package.sh /usr/local/bin/build-package.sh
COPY docker/entrypoint.sh /usr/local/bin/ecli-compile
ENV ECLI_INCLUDE=/usr/share/ecli/include
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/ecli-compile"]

# The ecli compile image: turns the *.bpf.c in a folder into package.json, like eunomia's ecc.
#
#   make docker-image                       # builds bin/btfexport, then this image
#   docker run -it --user $(id -u):$(id -g) -v $(pwd):/src ecli-compile
#
# btfexport is built on the host (static, CGO_ENABLED=0) by `make docker-image` and copied in:
# the build context must hold bin/btfexport. BASE may be any Debian bookworm image (CI uses a
# local debootstrap'd one); the same clang-19 as the host gives byte-identical packages.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      clang-19 llvm-19 libbpf-dev \
 && rm -rf /var/lib/apt/lists/*
COPY include/vmlinux/ /usr/share/ecli/include/vmlinux/
COPY include/ecli/ /usr/share/ecli/include/ecli/
COPY bin/btfexport /usr/local/bin/btfexport
COPY docker/build-package.sh /usr/local/bin/build-package.sh
COPY docker/entrypoint.sh /usr/local/bin/ecli-compile
ENV ECLI_INCLUDE=/usr/share/ecli/include
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/ecli-compile"]

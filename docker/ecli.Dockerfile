# The ecli runtime image: the static bin/ecli on a minimal base, entrypoint ecli.
#
#   make ecli-image                   # builds bin/ecli, then this image (tag: ecli)
#   docker run --rm --privileged --pid=host -v /sys/kernel:/sys/kernel ecli run tcpconnlat
#
# The build context is a tar stream mk/docker.mk makes (this file, bin/ecli and the host's
# CA bundle, for OCI registries over TLS): no Go toolchain and no package manager run here.
# BASE is any Debian-like image; CI passes the local ecli-base:bookworm
# (.ci/setup.d/docker.sh), without a registry.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY ecli /usr/local/bin/ecli
ENTRYPOINT ["/usr/local/bin/ecli"]
CMD ["list"]

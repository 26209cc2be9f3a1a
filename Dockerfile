# The eksbox toolbox: every eksctl/aws/kubectl/flux/fluxctl command of every step runs in this image.
#
# Every artifact is pinned by version AND sha256 per architecture and checked with `sha256sum -c`
# before use; a mismatch fails the build. Every checksum was copied from public files that publish
# or commit it (release checksum files, dl.k8s.io .sha256 files, public pin tables), never computed
# here (README, "The toolbox image"). Each tool downloads and verifies in its own stage, so
# changing one pin re-downloads only that tool. Build it with `eksbox image build` (or `make
# image`); `eksbox image ref` prints the tag this checkout expects and `eksbox image verify` checks
# a built image against these pins.
#
# Download base URLs are build args so the tests can point them at a local mirror; the real URLs
# are the defaults. Update bots: the `# renovate:` comment above each *_VERSION names its source;
# the *_SHA256_* args beside it must be updated in the same change (the build fails otherwise).

# debian:bookworm-slim, multi-arch index digest, as pinned in >=10 public Dockerfiles (one names it
# "multi-arch manifest list"); it could not be checked against Docker Hub from where this was written.
# Renovate's docker manager keeps tag@digest current.
ARG BASE_IMAGE=debian:bookworm-slim@sha256:96e378d7e6531ac9a15ad505478fcc2e69f371b10f5cdf87857c4b8188404716

# renovate: datasource=github-releases depName=eksctl-io/eksctl extractVersion=^v(?<version>.*)$
ARG EKSCTL_VERSION=0.230.0
# From the release's eksctl_checksums.txt (via cashapp/hermit-packages and 4 install scripts).
ARG EKSCTL_SHA256_AMD64=a2060956f117c3065abafda5c1f681679b9c3716675d70ce4ffff46033b02c35
ARG EKSCTL_SHA256_ARM64=21afe8a1e38f0e8153a1f27ff7af6b90e309a0411a1438139463dac2f866674d
ARG EKSCTL_BASE_URL=https://github.com/eksctl-io/eksctl/releases/download

# renovate: datasource=github-tags depName=aws/aws-cli
ARG AWSCLI_VERSION=2.36.21
# AWS publishes no sha256 for these zips, only a PGP signature. These hashes were computed by third
# parties (cashapp/hermit-packages awscli.hcl + one install script); the signature is checked too.
ARG AWSCLI_SHA256_AMD64=b665b24dae1ed70bc38ef03998570307a0363839196b564bf04f8d7502132b9a
ARG AWSCLI_SHA256_ARM64=4cad0c3f28d6f598863dfe9cfef7fd166e23b853a9ccddd1b73a0938c92ce3e4
ARG AWSCLI_BASE_URL=https://awscli.amazonaws.com
# "true": also check <zip>.sig against the AWS CLI Team key in src/image/awscli-public-key.asc.
ARG AWSCLI_VERIFY_SIGNATURE=true
ARG AWSCLI_PGP_FINGERPRINT=FB5DB77FD5C118B80511ADA8A6310ACC4672475C

# A minor matching DEFAULT_KUBERNETES_VERSION in src/config/schema.ts (kubectl supports +-1 minor).
# renovate: datasource=github-releases depName=kubernetes/kubernetes extractVersion=^v(?<version>.*)$ allowedVersions=/^1\.34\./
ARG KUBECTL_VERSION=1.34.11
# From dl.k8s.io/release/v1.34.11/bin/linux/<arch>/kubectl.sha256 (via kubernetes-sigs/kubespray).
ARG KUBECTL_SHA256_AMD64=8efbb9435132a190920eb65a47a8c1ecf755ad85ab57a600c9bedbab460bb7a8
ARG KUBECTL_SHA256_ARM64=5b045a4712674c88a56fd98eef4285689738b7fbe8735e1b9ee3509521af5cb4
ARG KUBECTL_BASE_URL=https://dl.k8s.io/release

# Flux v2: `flux bootstrap` and friends for today's clusters.
# renovate: datasource=github-releases depName=fluxcd/flux2 extractVersion=^v(?<version>.*)$
ARG FLUX_VERSION=2.9.6
# Same hex in >=5 (amd64) / 3 (arm64) independent public pin files.
ARG FLUX_SHA256_AMD64=b4d22673e9246cbd628881f1a9ef3b090085dced291e42d804555cee8e8d42c5
ARG FLUX_SHA256_ARM64=6663c154755b732f43dc993d72321f71c2fc1ff0bcb94b2696e0a8638fa562b4
ARG FLUX_BASE_URL=https://github.com/fluxcd/flux2/releases/download

# fluxctl is Flux v1 (end of life), kept for clusters still running it. Upstream publishes no
# checksums. amd64: one public source (archlinux AUR fluxctl-bin PKGBUILD).
# arm64: NO published checksum exists; none is invented here. While FLUXCTL_SHA256_ARM64 is empty,
# arm64 images leave fluxctl out and say so in /etc/eksbox/tools.json. To include it, download
# fluxctl_linux_arm64 yourself, hash it, and pass the hash.
# renovate: datasource=github-releases depName=fluxcd/flux
ARG FLUXCTL_VERSION=1.25.4
ARG FLUXCTL_SHA256_AMD64=4ad67f50d76b80e7f2294b3da1699a84955b7201caf549114564baa60e1af103
ARG FLUXCTL_SHA256_ARM64=
ARG FLUXCTL_BASE_URL=https://github.com/fluxcd/flux/releases/download

# ---------------------------------------------------------------------------------------------------
# Download tooling shared by the per-tool stages (never part of the final image).
FROM ${BASE_IMAGE} AS fetcher
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates curl gnupg jq unzip \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /out/bin /out/manifest
COPY src/image/fetch-verified.sh /usr/local/lib/eksbox/fetch-verified.sh
# Docker's arch names (amd64, arm64) match Debian's, so the base's own arch is the fallback when
# the builder does not set TARGETARCH (the classic builder behind the Engine API does not).
SHELL ["/bin/sh", "-eu", "-c"]

FROM fetcher AS eksctl
ARG TARGETARCH
ARG EKSCTL_VERSION
ARG EKSCTL_SHA256_AMD64
ARG EKSCTL_SHA256_ARM64
ARG EKSCTL_BASE_URL
RUN arch=${TARGETARCH:-$(dpkg --print-architecture)}; \
    case $arch in amd64) sha=$EKSCTL_SHA256_AMD64;; arm64) sha=$EKSCTL_SHA256_ARM64;; *) echo "eksctl: unsupported arch $arch" >&2; exit 1;; esac; \
    sh /usr/local/lib/eksbox/fetch-verified.sh eksctl "$EKSCTL_VERSION" \
      "$EKSCTL_BASE_URL/v$EKSCTL_VERSION/eksctl_Linux_$arch.tar.gz" "$sha" /tmp/eksctl.tar.gz arch=$arch; \
    tar -xzf /tmp/eksctl.tar.gz -C /out/bin eksctl; \
    chmod 0755 /out/bin/eksctl

FROM fetcher AS awscli
ARG TARGETARCH
ARG AWSCLI_VERSION
ARG AWSCLI_SHA256_AMD64
ARG AWSCLI_SHA256_ARM64
ARG AWSCLI_BASE_URL
ARG AWSCLI_VERIFY_SIGNATURE
ARG AWSCLI_PGP_FINGERPRINT
COPY src/image/awscli-public-key.asc /tmp/awscli-public-key.asc
# The signature check passes on VALIDSIG from the pinned primary key, not on gpg's exit status:
# the key's published self-signature has an expiry date, and a good signature from it stays good.
RUN arch=${TARGETARCH:-$(dpkg --print-architecture)}; \
    case $arch in amd64) sha=$AWSCLI_SHA256_AMD64 zarch=x86_64;; arm64) sha=$AWSCLI_SHA256_ARM64 zarch=aarch64;; *) echo "awscli: unsupported arch $arch" >&2; exit 1;; esac; \
    url="$AWSCLI_BASE_URL/awscli-exe-linux-$zarch-$AWSCLI_VERSION.zip"; \
    signature=not-checked; \
    if [ "$AWSCLI_VERIFY_SIGNATURE" = true ]; then \
      curl --fail --silent --show-error --location --retry 3 --output /tmp/awscli.zip.sig "$url.sig" \
        || { echo "awscli: could not download the PGP signature $url.sig" >&2; exit 1; }; \
      signature=pgp:$AWSCLI_PGP_FINGERPRINT; \
    fi; \
    sh /usr/local/lib/eksbox/fetch-verified.sh awscli "$AWSCLI_VERSION" "$url" "$sha" /tmp/awscli.zip \
      arch=$arch signature=$signature; \
    if [ "$AWSCLI_VERIFY_SIGNATURE" = true ]; then \
      export GNUPGHOME=$(mktemp -d); \
      gpg --batch --quiet --import /tmp/awscli-public-key.asc; \
      gpg --batch --status-fd 1 --verify /tmp/awscli.zip.sig /tmp/awscli.zip 2>/dev/null \
        | awk -v fpr="$AWSCLI_PGP_FINGERPRINT" '$2 == "VALIDSIG" && $NF == fpr { ok = 1 } END { exit !ok }' \
        || { echo "awscli: PGP SIGNATURE CHECK FAILED for $url (expected a valid signature by $AWSCLI_PGP_FINGERPRINT)" >&2; exit 1; }; \
      echo "awscli: PGP signature OK (key $AWSCLI_PGP_FINGERPRINT)"; \
    else \
      echo "awscli: PGP signature NOT checked (AWSCLI_VERIFY_SIGNATURE=$AWSCLI_VERIFY_SIGNATURE)"; \
    fi; \
    unzip -q /tmp/awscli.zip -d /tmp/awscli; \
    /tmp/awscli/aws/install --install-dir /usr/local/aws-cli --bin-dir /out/bin; \
    rm -rf /tmp/awscli /tmp/awscli.zip

FROM fetcher AS kubectl
ARG TARGETARCH
ARG KUBECTL_VERSION
ARG KUBECTL_SHA256_AMD64
ARG KUBECTL_SHA256_ARM64
ARG KUBECTL_BASE_URL
RUN arch=${TARGETARCH:-$(dpkg --print-architecture)}; \
    case $arch in amd64) sha=$KUBECTL_SHA256_AMD64;; arm64) sha=$KUBECTL_SHA256_ARM64;; *) echo "kubectl: unsupported arch $arch" >&2; exit 1;; esac; \
    sh /usr/local/lib/eksbox/fetch-verified.sh kubectl "$KUBECTL_VERSION" \
      "$KUBECTL_BASE_URL/v$KUBECTL_VERSION/bin/linux/$arch/kubectl" "$sha" /out/bin/kubectl arch=$arch; \
    chmod 0755 /out/bin/kubectl

FROM fetcher AS flux
ARG TARGETARCH
ARG FLUX_VERSION
ARG FLUX_SHA256_AMD64
ARG FLUX_SHA256_ARM64
ARG FLUX_BASE_URL
RUN arch=${TARGETARCH:-$(dpkg --print-architecture)}; \
    case $arch in amd64) sha=$FLUX_SHA256_AMD64;; arm64) sha=$FLUX_SHA256_ARM64;; *) echo "flux: unsupported arch $arch" >&2; exit 1;; esac; \
    sh /usr/local/lib/eksbox/fetch-verified.sh flux "$FLUX_VERSION" \
      "$FLUX_BASE_URL/v$FLUX_VERSION/flux_${FLUX_VERSION}_linux_$arch.tar.gz" "$sha" /tmp/flux.tar.gz arch=$arch; \
    tar -xzf /tmp/flux.tar.gz -C /out/bin flux; \
    chmod 0755 /out/bin/flux

FROM fetcher AS fluxctl
ARG TARGETARCH
ARG FLUXCTL_VERSION
ARG FLUXCTL_SHA256_AMD64
ARG FLUXCTL_SHA256_ARM64
ARG FLUXCTL_BASE_URL
RUN arch=${TARGETARCH:-$(dpkg --print-architecture)}; \
    case $arch in amd64) sha=$FLUXCTL_SHA256_AMD64;; arm64) sha=$FLUXCTL_SHA256_ARM64;; *) echo "fluxctl: unsupported arch $arch" >&2; exit 1;; esac; \
    if [ "$arch" = arm64 ] && [ -z "$sha" ]; then \
      echo "fluxctl: NOT INSTALLED on arm64: no published sha256 for fluxctl_linux_arm64 $FLUXCTL_VERSION (set FLUXCTL_SHA256_ARM64 to include it)"; \
      printf '{"tool": "fluxctl", "version": "%s", "sha256": null, "arch": "%s", "skipped": "no published sha256 for fluxctl_linux_arm64; set FLUXCTL_SHA256_ARM64 to include it"}\n' \
        "$FLUXCTL_VERSION" "$arch" >/out/manifest/fluxctl.json; \
    else \
      sh /usr/local/lib/eksbox/fetch-verified.sh fluxctl "$FLUXCTL_VERSION" \
        "$FLUXCTL_BASE_URL/$FLUXCTL_VERSION/fluxctl_linux_$arch" "$sha" /out/bin/fluxctl arch=$arch; \
      chmod 0755 /out/bin/fluxctl; \
    fi

# Merges the per-tool fragments; only re-runs when one of them changed.
FROM fetcher AS manifest
COPY --from=eksctl /out/manifest/ /manifest/
COPY --from=awscli /out/manifest/ /manifest/
COPY --from=kubectl /out/manifest/ /manifest/
COPY --from=flux /out/manifest/ /manifest/
COPY --from=fluxctl /out/manifest/ /manifest/
RUN jq --slurp '{schemaVersion: 1, arch: .[0].arch, tools: (sort_by(.tool))}' /manifest/*.json >/tools.json \
 && jq . /tools.json

# ---------------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS toolbox
# git + openssh-client: `flux bootstrap` clones and pushes; less: pagers of aws/kubectl; jq: scripts.
# apt-get clean: the official image drops downloaded .debs by itself, a debootstrap base does not.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates git openssh-client less jq \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 eksbox \
 && useradd --uid 10001 --gid 10001 --create-home --shell /bin/bash eksbox \
 && mkdir -p /etc/eksbox \
 && ln -s /usr/local/aws-cli/v2/current/bin/aws /usr/local/bin/aws \
 && ln -s /usr/local/aws-cli/v2/current/bin/aws_completer /usr/local/bin/aws_completer
# Largest and least often bumped first: the classic builder re-runs every COPY after a changed one.
COPY --from=awscli /usr/local/aws-cli /usr/local/aws-cli
COPY --from=eksctl /out/bin/eksctl /usr/local/bin/eksctl
COPY --from=kubectl /out/bin/kubectl /usr/local/bin/kubectl
COPY --from=flux /out/bin/flux /usr/local/bin/flux
COPY --from=fluxctl /out/bin/ /usr/local/bin/
COPY --from=manifest /tools.json /etc/eksbox/tools.json

ARG BASE_IMAGE
ARG EKSCTL_VERSION
ARG AWSCLI_VERSION
ARG KUBECTL_VERSION
ARG FLUX_VERSION
ARG FLUXCTL_VERSION
# io.eksbox.tools lists the pinned versions so eksbox can log them without starting a container;
# /etc/eksbox/tools.json is the record of what is actually installed (with sha256, and fluxctl
# marked skipped on arm64).
LABEL org.opencontainers.image.title="eksbox-toolbox" \
      org.opencontainers.image.description="eksctl, AWS CLI v2, kubectl, flux and fluxctl, pinned by version and sha256" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${BASE_IMAGE}" \
      io.eksbox.manifest="/etc/eksbox/tools.json" \
      io.eksbox.tools="{\"awscli\":\"${AWSCLI_VERSION}\",\"eksctl\":\"${EKSCTL_VERSION}\",\"flux\":\"${FLUX_VERSION}\",\"fluxctl\":\"${FLUXCTL_VERSION}\",\"kubectl\":\"${KUBECTL_VERSION}\"}"

USER 10001:10001
WORKDIR /home/eksbox
ENV HOME=/home/eksbox
CMD ["bash"]

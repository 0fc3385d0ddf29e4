# syntax=docker/dockerfile:1.7
# JOSH: one image holding every binary (the five services and joshctl). A Deployment or compose
# service picks the binary with its command, e.g. `command: ["/usr/local/bin/billing"]`.
#
#   docker build -t josh:dev .
#
# The build needs no database (SQLX_OFFLINE=true reads the committed .sqlx/ cache) and no protoc
# (protobuf compiles with protox, in Rust).

ARG RUST_VERSION=1.94
ARG DEBIAN_RELEASE=bookworm

# ---- builder ------------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS builder
# aws-lc-sys (rustls' crypto provider) builds C code with cmake.
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake clang \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ENV SQLX_OFFLINE=true \
    CARGO_TERM_COLOR=never \
    CARGO_TARGET_DIR=/src/target
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
        --bin inbound-sms --bin conversation-router --bin linkup-matcher \
        --bin billing --bin outbound-sender --bin joshctl \
        --bin twilio-sim --bin stripe-sim \
    && mkdir -p /out /out-sims \
    && for b in inbound-sms conversation-router linkup-matcher billing outbound-sender joshctl; do \
           cp "target/release/$b" /out/; \
       done \
    && cp target/release/twilio-sim target/release/stripe-sim /out-sims/

# ---- sims: the Twilio and Stripe simulators, for local compose only (`--target sims`) -------------
FROM gcr.io/distroless/cc-debian12:nonroot AS sims
COPY --from=builder /out-sims/ /usr/local/bin/
USER 65532:65532
CMD ["/usr/local/bin/twilio-sim"]

# ---- runtime (the default target, last in the file) ------------------------------------------------------------------------------------
# distroless/cc: glibc, libgcc, CA certificates and a `nonroot` user (uid 65532); no shell.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=builder /out/ /usr/local/bin/
# The migrations are embedded in joshctl (sqlx::migrate!), so nothing else is copied.
WORKDIR /tmp
USER 65532:65532
ENV RUST_LOG=info
# Nothing is written to the root filesystem: run with readOnlyRootFilesystem.
EXPOSE 8081 8082 8083 8084 8085 9081 9082 9083 9084 9085
ENTRYPOINT []
CMD ["/usr/local/bin/joshctl", "--help"]

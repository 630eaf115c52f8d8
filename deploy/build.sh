#!/usr/bin/env bash
# Builds the Lambda package: checks the mappings, builds `bootstrap` for arm64 Linux, and lays
# out target/lambda/crmmap/ (bootstrap, crmmap.toml, mappings/) for `sam deploy`.
#
#   deploy/build.sh                # release build for aarch64-unknown-linux-gnu
#   TARGET=x86_64-unknown-linux-gnu deploy/build.sh   # and set Architectures: [x86_64]
#
# Cross-compiling needs the target (`rustup target add aarch64-unknown-linux-gnu`) and a
# linker for it (`apt-get install gcc-aarch64-linux-gnu`), or `cargo lambda build --release
# --arm64` instead of the cargo build below.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET="${TARGET:-aarch64-unknown-linux-gnu}"
MAPPINGS="${MAPPINGS:-mappings}"
CONFIG="${CONFIG:-deploy/crmmap.toml}"
OUT=target/lambda/crmmap

# 1. The mappings must check clean before anything is packaged.
cargo run --quiet --release -p crmmap-cli -- check "$MAPPINGS"

# 2. The binary.
if [ "$TARGET" = "aarch64-unknown-linux-gnu" ]; then
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER="${CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER:-aarch64-linux-gnu-gcc}"
fi
cargo build --release -p crmmap-lambda --target "$TARGET"

# 3. The package: the mappings are bundled, so a deployed function runs exactly what was checked.
rm -rf "$OUT"
mkdir -p "$OUT"
cp "target/$TARGET/release/bootstrap" "$OUT/bootstrap"
cp "$CONFIG" "$OUT/crmmap.toml"
cp -r "$MAPPINGS" "$OUT/mappings"
echo "package ready in $OUT"

#!/usr/bin/env bash
# Bazel's --workspace_status_command for stamped builds (`bazel build --config=release ...`):
# the commit, for the image label org.opencontainers.image.revision.
echo "STABLE_BUILD_SCM_REVISION $(git rev-parse HEAD 2>/dev/null || echo unknown)"

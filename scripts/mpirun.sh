#!/usr/bin/env bash
# mpiexec with the flags this machine needs: --oversubscribe, and --allow-run-as-root as root.
flags=(--oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
exec mpiexec "${flags[@]}" "$@"

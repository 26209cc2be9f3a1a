#!/usr/bin/env bash
# `make demo`: the main job end to end on this machine with no AWS account.
#   moto (a local AWS emulator) stands in for AWS; in the local toolbox image the AWS CLI and kubectl
#   are real, while eksctl and flux are TEST DOUBLES (test/doubles/), because they cannot be
#   downloaded here. Against real AWS the same commands use the real toolbox (Dockerfile).
# `make demo-down` (or `demo.sh down`) stops the emulator.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if [ "${1:-}" = down ]; then exec bash test/support/local-emulator.sh stop; fi

say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

eval "$(bash test/support/local-emulator.sh start)"
trap 'bash test/support/local-emulator.sh stop' EXIT

export EKSBOX_IMAGE="$EKSBOX_DEMO_IMAGE"
export EKSBOX_PASS_ENV=EKSBOX_TEST_KUBE_API EKSBOX_TEST_KUBE_API
# Recognisable fake credentials: moto accepts any, and eksbox must mask them everywhere.
export AWS_ACCESS_KEY_ID=AKIADEMO0000NOTREAL0 AWS_SECRET_ACCESS_KEY=demo-secret-not-a-real-key GITHUB_TOKEN=ghp_demoNotARealToken000000000000000000
eksbox() { node dist/cli.js "$@"; }

say "SIMULATED: AWS is moto on $EKSBOX_DEMO_MOTO_URL; eksctl and flux are test doubles in $EKSBOX_IMAGE"
say "plan born: what would run (nothing is changed)"
eksbox plan born --env local
say "born: cluster, nodegroups (one per zone), IAM service accounts, kubeconfig, Flux"
eksbox born --env local
say "born again: every step finds its work done"
eksbox born --env local
# The config stays the truth after day one. The edit is given with --set so the demo leaves
# config/environments/local.yaml as it is in git; editing worker.maxSize there does the same.
edit=(--set worker.maxSize=3)
say "converge: worker.maxSize 2 -> 3 (an edit of the config); plan shows exactly that change"
eksbox plan born --env local "${edit[@]}"
say "born applies it in place (eksctl scale nodegroup)"
eksbox born --env local "${edit[@]}"
say "plan again: clean (diff --exit-code: 0 none, 2 changes)"
eksbox diff --env local "${edit[@]}" --exit-code
say "status"
eksbox status --env local
next=$(date -u -d tomorrow +%Y%m%d)
say "nodegroup roll to version $next: new nodegroups beside the old, wait for Ready nodes, drain and delete the old"
eksbox nodegroup roll --env local --to-version "$next" --yes
eksbox status --env local
say "destroy"
eksbox destroy --env local --yes
say "done: the run records are under .eksbox/runs/"

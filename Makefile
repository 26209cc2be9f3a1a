# make <target> ENV=<env>: every target is one eksbox command. ENV is honoured only when given on the
# make command line: POSIX shells export ENV for their own start-up file, and that must never pick
# the environment a cluster is created in.
EKSBOX   := node dist/cli.js
ENV_FLAG := $(if $(filter command line,$(origin ENV)),--env $(ENV),)
TASK     ?= born

.PHONY: setup build born plan generate validate roll destroy status shell image test test-unit test-chaos test-podman bench demo demo-down moto clean

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

# npm run build type-checks src (tsc --noEmit), then bundles it with esbuild into dist/.
dist/cli.js: node_modules/.package-lock.json $(shell find src -name '*.ts' 2>/dev/null) tsconfig.json package.json
	npm run build --silent

setup build: dist/cli.js

born: setup
	$(EKSBOX) born $(ENV_FLAG)
plan: setup
	$(EKSBOX) plan $(TASK) $(ENV_FLAG)
generate: setup
	$(EKSBOX) generate $(ENV_FLAG)
validate: setup
	$(EKSBOX) validate $(if $(ENV_FLAG),$(ENV_FLAG),--all)
roll: setup
	$(EKSBOX) nodegroup roll $(ENV_FLAG)
destroy: setup
	$(EKSBOX) destroy $(ENV_FLAG)
status: setup
	$(EKSBOX) status $(ENV_FLAG)
shell: setup
	$(EKSBOX) shell $(ENV_FLAG)
image: setup
	$(EKSBOX) image build

# moto (the local AWS emulator) of the pinned version: the one on PATH when it fits, else installed
# into .venv/ (gitignored).
moto:
	bash test/support/ensure-moto.sh >/dev/null

# The tests need a Docker engine and a Debian base image: setup-engine.sh installs/starts/builds
# what is missing and reuses what is there.
test: setup moto
	npm run typecheck --silent
	npm run lint --silent
	bash test/support/setup-engine.sh
	npm test
test-unit: setup
	EKSBOX_TEST_SKIP_ENGINE=1 npm run test:unit
test-chaos: setup moto
	bash test/support/setup-engine.sh
	npm run test:chaos
# The runtime tests and the lifecycle e2e again against Podman (rootful), plus rootless Podman as an
# unprivileged user; the test set-up (setup-podman.sh) installs and starts what is missing.
test-podman: setup
	bash test/support/setup-engine.sh
	npm run test:podman
bench: setup
	bash test/support/setup-engine.sh
	npm run bench

# The whole lifecycle on this machine, no AWS account: moto emulates AWS, and eksctl and flux are
# test doubles in a local toolbox image (they cannot be downloaded here). See README "demo".
demo: setup moto
	bash test/support/setup-engine.sh
	bash test/support/demo.sh

demo-down:
	bash test/support/demo.sh down

clean:
	rm -rf dist build .eksbox

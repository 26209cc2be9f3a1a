# make <target> ENV=<env>: every target is one eksbox command. ENV is honoured only when given on the
# make command line: POSIX shells export ENV for their own start-up file, and that must never pick
# the environment a cluster is created in.
EKSBOX   := node dist/cli.js
ENV_FLAG := $(if $(filter command line,$(origin ENV)),--env $(ENV),)
TASK     ?= born

.PHONY: setup build born plan generate validate roll destroy status shell image test test-unit test-chaos test-podman bench demo demo-down oracle moto clean

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
# what is missing and reuses what is there. The oracle tests (test/oracle/) need the real eksctl and
# flux: setup-oracle.sh builds them from the Go module proxy the first time (cached by version).
test: setup moto
	npm run typecheck --silent
	npm run lint --silent
	bash test/support/setup-engine.sh
	bash test/support/setup-oracle.sh >/dev/null
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
# test doubles in a local toolbox image (they cannot be downloaded here). See docs/testing.md, "The local demo".
demo: setup moto
	bash test/support/setup-engine.sh
	bash test/support/demo.sh

# The real eksctl and flux judge eksbox: builds them when missing, runs test/oracle/; the last line
# is the agreement figure ("oracle: N configs, M agree with eksctl <version>").
oracle: setup moto
	bash test/support/setup-oracle.sh >/dev/null
	bash test/support/setup-engine.sh
	@rm -f .eksbox-test/oracle-summary.txt
	@EKSBOX_ORACLE_SUMMARY=.eksbox-test/oracle-summary.txt npx vitest run test/oracle; status=$$?; \
	  tail -n 1 .eksbox-test/oracle-summary.txt 2>/dev/null || echo "oracle: no figure (the oracle tests did not run)"; \
	  exit $$status

demo-down:
	bash test/support/demo.sh down

clean:
	rm -rf dist build .eksbox

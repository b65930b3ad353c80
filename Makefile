# Two commands on a fresh clone: `make demo` and `make test`. Everything else is a step of theirs.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
ENV := source scripts/env.sh &&
MOCHA := ./node_modules/.bin/mocha

.PHONY: bench-refresh refresh demo-refresh restore-cluster backup restore-table recovery-points all deps toolchain sandbox sandbox-down shell-tools lint typecheck test test-unit test-bats test-hosts test-engine demo bench status pr-preview promote up

all: test

node_modules/.installed: package.json package-lock.json scripts/node22.sh
	$(ENV) bash scripts/node22.sh && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@

deps: node_modules/.installed

toolchain: deps
	$(ENV) bash toolchain/build.sh

sandbox:
	bash sandbox/up.sh

sandbox-down:
	bash sandbox/down.sh

# shellcheck and bats are Debian packages: installed when missing, as sandbox/up.sh installs its own
shell-tools:
	@missing=$$(for p in shellcheck bats; do dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'install ok installed' || echo "$$p"; done); \
	  if [ -n "$$missing" ]; then \
	    echo "installing" $$missing; apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  fi

# every shell file: the repository's, the host scripts (and the rendered ones, golden), the bats fakes
SHELL_FILES = { git ls-files '*.sh'; find host -name '*.sh'; ls test/bats/fake-bin/*; } | sort -u

lint: deps shell-tools
	$(ENV) ./node_modules/.bin/eslint . && ./node_modules/.bin/prettier --check --log-level warn . && \
	  "$$(bash toolchain/actionlint.sh)" -no-color .github/workflows/*.yml && \
	  shellcheck --external-sources --shell=bash $$($(SHELL_FILES))

typecheck: deps
	$(ENV) ./node_modules/.bin/tsc --noEmit

test-unit: deps
	$(ENV) $(MOCHA) 'test/unit/**/*.test.ts'

# host/lib.sh's functions against fake PostgreSQL programs (test/bats/fake-bin)
test-bats: shell-tools
	bats test/bats

test-hosts: deps sandbox
	$(ENV) $(MOCHA) --timeout 120000 'test/hosts/**/*.test.ts'

# the crossing suite first: it brings pg1-pg3 up with an old version and its own stack, which the
# shared dev stack must find before its first up (after it, the dev stack would not see the drift)
ENGINE_TESTS := test/engine/crossing.test.ts $(filter-out test/engine/crossing.test.ts,$(sort $(wildcard test/engine/*.test.ts)))

test-engine: toolchain sandbox
	$(ENV) pulumi version && pulumi plugin ls && pulumi-language-nodejs -version && \
	  $(MOCHA) --timeout 1800000 $(ENGINE_TESTS)

test: lint typecheck test-unit test-bats test-hosts test-engine

demo: deps sandbox
	$(ENV) bash scripts/demo.sh

demo-refresh: deps sandbox
	$(ENV) bash scripts/demo-refresh.sh

bench: toolchain sandbox
	$(ENV) node -r ts-node/register/transpile-only bench/index.ts

bench-refresh: toolchain sandbox
	$(ENV) node -r ts-node/register/transpile-only bench/refresh.ts

# make status STACK=dev: a stack's replication state as a table, and how applications connect
STACK ?= dev
status: deps
	$(ENV) source scripts/passphrase.sh $(STACK) && node -r ts-node/register/transpile-only scripts/status.ts $(STACK)

# Every recipe that opens a stack first decides its passphrase with scripts/passphrase.sh: the
# sandbox passphrase for dev and sandbox-* alone, the operator's own for any other (README, Secrets).
ALL_STACKS = $(patsubst Pulumi.%.yaml,%,$(wildcard Pulumi.*.yaml))

# make pr-preview [STACKS="dev staging"]: the Markdown report of every stack's preview, for a pull request
# (stdout is the report alone: the toolchain's lines go to stderr)
pr-preview: deps
	@$(ENV) source scripts/passphrase.sh $${STACKS:-$(ALL_STACKS)} && bash toolchain/build.sh >&2 && \
	  node -r ts-node/register/transpile-only report/prPreview.ts

# make up STACK=staging: an update with the policy pack (mandatory on a production stack)
up: toolchain
	$(ENV) source scripts/passphrase.sh $(STACK) && \
	  pulumi stack select --create --non-interactive $(STACK) && \
	  pulumi up --yes --non-interactive --stack $(STACK) --policy-pack policy \
	  $$(case "$(STACK)" in production|*-production) echo --policy-pack-config policy/production.json;; esac)

# make promote FROM=sandbox-staging TO=sandbox-production: what ran on FROM (at this commit,
# healthy) goes to TO, with the policy pack (promote/promote.ts)
promote: deps
	@[ -n "$(FROM)" ] && [ -n "$(TO)" ] || { echo "usage: make promote FROM=<stack> TO=<stack>" >&2; exit 2; }
	@$(ENV) source scripts/passphrase.sh $(FROM) $(TO) && bash toolchain/build.sh >&2 && \
	  FROM=$(FROM) TO=$(TO) node -r ts-node/register/transpile-only promote/promote.ts

# Backups (clusters[].backup): make backup STACK=dev [TYPE=full|diff]; make restore-table STACK=dev
# DB=appdb TABLE=public.orders AT='2026-12-02 10:15:00+00' [WHERE="id = 42"]; make recovery-points
# STACK=dev DB=appdb [SINCE=…]
TS_NODE := node -r ts-node/register/transpile-only
refresh: deps
	@[ -n "$(FROM)" ] && [ -n "$(TO)" ] || { echo "usage: make refresh FROM=<stack> TO=<stack> [AT='YYYY-MM-DD HH:MM:SS+00']" >&2; exit 2; }
	@$(ENV) source scripts/passphrase.sh $(TO) && bash toolchain/build.sh >&2 && \
	  FROM=$(FROM) TO=$(TO) $(TS_NODE) scripts/refresh.ts

restore-cluster: deps
	$(ENV) source scripts/passphrase.sh $(STACK) && bash toolchain/build.sh >&2 && $(TS_NODE) scripts/restoreCluster.ts $(STACK)

backup: deps
	$(ENV) source scripts/passphrase.sh $(STACK) && $(TS_NODE) scripts/backup.ts $(STACK)

restore-table: deps
	$(ENV) source scripts/passphrase.sh $(STACK) && $(TS_NODE) scripts/restoreTable.ts $(STACK)

recovery-points: deps
	$(ENV) source scripts/passphrase.sh $(STACK) && $(TS_NODE) scripts/recoveryPoints.ts $(STACK)

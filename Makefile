# logfan: build, test and run the recipient side of cross-account CloudWatch Logs sharing.
# `make help` lists the targets. Everything the tests need is installed or started here.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO        ?= go
# go.mod's toolchain line names the Go patch release logfan builds with (the
# newest 1.26 patch the module proxy serves, for the standard library's
# security fixes). auto lets an older local go, or one whose go.env says
# GOTOOLCHAIN=local, fetch that release from the module proxy and run it.
GOTOOLCHAIN ?= auto
export GOTOOLCHAIN
BUILD     ?= build
FUNCTIONS := $(notdir $(wildcard functions/*))
EVENT     ?= events/kinesis-data.json
SINK      ?= stdout
FUZZTIME  ?= 10s
LONGFUZZ  ?= 5m
BENCHCOUNT ?= 6
# Regions make test synthesizes regional destination stacks for (synth-regions);
# the cdk/recipient tests cover one and three regions in Go as well.
REGIONS_CHECK ?= eu-west-1,ap-southeast-2,us-west-2

export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_CLI_NOTICES := false

CDK       := node_modules/.bin/cdk
BIN       := $(CURDIR)/bin
# golangci-lint runs go vet, staticcheck, errcheck, goimports, misspell and
# revive's exported rule, as .golangci.yml configures them.
GOLANGCI_VERSION := v2.15.0
GOLANGCI  := $(BIN)/golangci-lint
BENCHSTAT := $(shell $(GO) env GOPATH)/bin/benchstat
BENCHSTAT_VERSION := v0.0.0-20260908200009-22c9c6c9d4da
# AWS's Lambda Runtime Interface Emulator, in a project-local bin/ (gitignored):
# `make invoke` and the invoke tests run the bootstraps under it.
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
# govulncheck and the Go vulnerability database it reads, offline: the
# database's sources are a Go module (golang.org/x/vulndb, its OSV files);
# its own indexdb command turns them into the layout govulncheck's
# -db file:// takes. Bump VULNDB_VERSION (a pseudo-version of
# golang.org/x/vulndb on the module proxy) to learn of newer advisories.
GOVULNCHECK_VERSION := v1.10.0
VULNDB_VERSION      := v0.0.0-20261105234957-e22db6528018
VULNDB              := $(BIN)/vulndb@$(VULNDB_VERSION)
FUNCTION  ?= S3Function

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-10s %s\n", $$1, $$2}'

.PHONY: tools
tools: moto node_modules/.installed $(BIN)/.golangci-lint@$(GOLANGCI_VERSION) $(BIN)/.aws-lambda-rie@$(RIE_VERSION) ## check and install what builds and tests need (moto_server, cfn-lint, CDK CLI, linters, aws-lambda-rie)
	@command -v cfn-lint >/dev/null || { echo "cfn-lint is missing: pip install cfn-lint" >&2; exit 1; }
	@$(GO) mod download

# The linter at a pinned version, in a project-local bin/ (gitignored); the
# stamp names the version, so changing GOLANGCI_VERSION reinstalls.
$(BIN)/.golangci-lint@$(GOLANGCI_VERSION):
	@mkdir -p $(BIN)
	@echo "install golangci-lint $(GOLANGCI_VERSION) into bin/" >&2
	@GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)
	@rm -f $(BIN)/.golangci-lint@* && touch $@

# The stamp names the version, so changing RIE_VERSION reinstalls.
$(BIN)/.aws-lambda-rie@$(RIE_VERSION):
	@mkdir -p $(BIN)
	@echo "install aws-lambda-rie $(RIE_VERSION) into bin/" >&2
	@GOBIN=$(BIN) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)
	@rm -f $(BIN)/.aws-lambda-rie@* && touch $@

$(BIN)/.govulncheck@$(GOVULNCHECK_VERSION):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
	@rm -f $(BIN)/.govulncheck@* && touch $@

$(VULNDB)/index/db.json:
	@rm -rf $(BIN)/vulndb@*
	dir=$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	  test -d "$$dir/data/osv" || { echo "golang.org/x/vulndb@$(VULNDB_VERSION) has no data/osv" >&2; exit 1; }; \
	  $(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -vulns "$$dir/data/osv" -out $(VULNDB)

.PHONY: vulncheck
vulncheck: $(BIN)/.govulncheck@$(GOVULNCHECK_VERSION) $(VULNDB)/index/db.json ## known vulnerabilities the code reaches (standard library and modules), offline against the pinned vulnerability database
	CGO_ENABLED=1 $(BIN)/govulncheck -db file://$(VULNDB) ./...

.PHONY: moto
moto:
	@command -v moto_server >/dev/null || { echo "moto_server is missing: pip install 'moto[server]==5.2.*'" >&2; exit 1; }

# node_modules/go.mod makes the CLI's Go init templates a module of their own,
# so that ./... patterns skip them.
node_modules/.installed: package.json package-lock.json
	@echo "npm ci: the pinned CDK CLI into node_modules/" >&2
	@npm ci --no-audit --no-fund --loglevel=error >&2
	@echo 'module ignore_node_modules' > node_modules/go.mod
	@touch $@

.PHONY: build
build: $(FUNCTIONS:%=$(BUILD)/%/bootstrap) ## cross-compile every function to build/<fn>/bootstrap (linux/arm64)

# Always ask go build: its cache knows better than make whether sources changed.
$(BUILD)/%/bootstrap: FORCE
	@mkdir -p $(@D)
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags="-s -w" -o $@ ./functions/$*

.PHONY: FORCE
FORCE:

# Targets running a tool that writes data on stdout (make replay ... | jq)
# must not have make echo their commands there: their recipes are silent
# (@), and bash's -x traces each command on stderr instead. Prerequisites
# such as tools inherit it, and print their own steps on stderr too.
TOOL_TARGETS := events replay invoke demo
$(TOOL_TARGETS): .SHELLFLAGS := -eux -o pipefail -c

.PHONY: events
events: ## regenerate the sample events in events/ from events/src (deterministic)
	@$(GO) run ./cmd/logfan events

.PHONY: replay
replay: ## replay Lambda events through the real handler (NDJSON on stdout): make replay EVENT='events/kinesis-data.json ...' SINK=stdout [ROUTES=routes.json]
	@$(GO) run ./cmd/logfan replay $(foreach e,$(EVENT),-event '$(e)') -sink '$(SINK)' $(if $(ROUTES),-routes '$(ROUTES)')

.PHONY: invoke
invoke: tools ## run a function's bootstrap under the Lambda Runtime Interface Emulator: make invoke FUNCTION=S3Function EVENT='events/kinesis-data.json ...' [ENV=env.json] [INVOKE_ARGS=-keep]
	@$(GO) run ./cmd/logfan invoke -function '$(FUNCTION)' $(foreach e,$(EVENT),-event '$(e)') $(if $(ENV),-env-vars '$(ENV)') $(INVOKE_ARGS)

.PHONY: install
install: ## put logfan on the PATH: go install ./cmd/logfan (into $$(go env GOPATH)/bin, or $$GOBIN)
	$(GO) install ./cmd/logfan
	@bin=$$($(GO) env GOBIN); bin=$${bin:-$$($(GO) env GOPATH)/bin}; \
	  case ":$$PATH:" in *":$$bin:"*) echo "installed $$bin/logfan";; *) echo "installed $$bin/logfan; add $$bin to your PATH";; esac

.PHONY: demo
demo: moto ## the main job end to end on a local emulator: moto, stream, senders, three sinks, reconciliation (DEMO_ARGS='-events 50000')
	@$(GO) run ./cmd/logfan demo $(DEMO_ARGS)

# The soak: SOAK_EVENTS events through the demo's pollers on moto to all three
# sinks, lost 0 and duplicates 0, with this process's memory sampled while the
# consumers drain the stream (docs/performance.md, "A million events, flat memory"). Not
# part of make test: a million events take minutes.
SOAK_EVENTS ?= 1000000
.PHONY: soak
soak: moto ## a million events through the demo on moto: lost 0, duplicates 0, events/s per sink, memory curve, fails on >10% RSS growth (SOAK_EVENTS=1000000)
	$(GO) run ./cmd/logfan demo -events $(SOAK_EVENTS) -soak $(DEMO_ARGS)

# depguard matches its file globs (**/shared/**, ...) against absolute
# paths: in a checkout below a folder named like one of the layout's tiers
# every file would match, so there it is left out, said so, and the layout
# test (internal/devkit/layout) is what checks the imports.
ifneq ($(filter shared cdk functions internal cmd,$(subst /, ,$(dir $(CURDIR)))),)
DEPGUARD_OFF := --disable depguard
endif

.PHONY: lint
lint: $(BIN)/.golangci-lint@$(GOLANGCI_VERSION) ## golangci-lint (gofmt, goimports, go vet, staticcheck, errcheck, misspell, doc comments), go mod tidy, govulncheck, and what each function links
	@echo "lint: go mod tidy -diff" >&2
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy" >&2; exit 1; }
	@echo "lint: golangci-lint run (.golangci.yml)" >&2
	@# cgo for internal/devkit/athenacheck (DuckDB, tests only); the functions build without it.
	@[ -z "$(DEPGUARD_OFF)" ] || echo "lint: $(CURDIR) lies below a folder named shared, cdk, functions, internal or cmd: depguard's import rules are left out here (their globs match absolute paths)" >&2
	@CGO_ENABLED=1 $(GOLANGCI) run $(DEPGUARD_OFF) ./...
	@$(MAKE) linkcheck
	@$(MAKE) vulncheck

# Each function links shared/ only, its own sink and its own service client
# (plus S3, which the quarantine writes to; only s3parquet links Parquet;
# the watchdog links no sink at all):
# never internal/ tooling, another
# sink or another sink's SDK client, nor the SDK's default config chain (see shared/awsclient).
.PHONY: linkcheck
linkcheck:
	@fail=0; for fn in $(FUNCTIONS); do \
	  case $$fn in s3|s3parquet) sink=s3sink;; firehose) sink=firehosesink;; logs) sink=logssink;; watchdog) sink=none;; *) echo "linkcheck: unknown function $$fn"; exit 1;; esac; \
	  parquet='^github.com/parquet-go/parquet-go$$|^github.com/logfan/logfan/shared/(parquetrec|sink/s3sink/s3parquet)$$'; \
	  if [ $$fn = s3parquet ]; then parquet='^$$'; fi; \
	  deps=$$(GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) list -tags lambda.norpc -deps ./functions/$$fn); \
	  bad=$$(echo "$$deps" | grep -E "$$parquet"'|^github.com/logfan/logfan/(internal|cmd|cdk)/|^github.com/logfan/logfan/shared/sink/[a-z]+sink$$|^github.com/aws/aws-sdk-go-v2/service/(firehose|cloudwatchlogs|kinesis|iam)$$|^github.com/aws/aws-sdk-go-v2/config$$|^github.com/aws/aws-cdk-go|duckdb' \
	    | grep -vx "github.com/logfan/logfan/shared/sink/$$sink" \
	    | { case $$fn in firehose) grep -vx 'github.com/aws/aws-sdk-go-v2/service/firehose';; logs) grep -vx 'github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs';; *) cat;; esac; } || true); \
	  if [ -n "$$bad" ]; then echo "functions/$$fn links what it must not:"; echo "$$bad" | sed 's/^/  /'; fail=1; fi; \
	done; exit $$fail

# make test's own steps report to a state file through internal/devkit/
# testsummary: go test's output stays what CI reads (ok and FAIL lines, a
# failing test's log), progress goes to stderr during the long silent steps,
# and make test ends with every figure on one line, then the result:
#   make test: 97 packages, 27 of them under -race, 812 tests (3 skipped), 4 fuzz targets, 9 templates linted, 11m32s
#   make test: 812 passed, 0 failed
TESTSTATE := $(BUILD)/make-test.json
TESTSUM   := $(BUILD)/testsummary
step = @echo "make test: [$(1)/8] $(2)" >&2

.PHONY: test
test: ## run every test: unit, integration on moto, DuckDB over the S3 output, race detector, fuzz (briefly), CDK assertions, cdk-nag, cfn-lint
	@mkdir -p $(BUILD)
	@$(GO) build -o $(TESTSUM) ./internal/devkit/testsummary
	@$(TESTSUM) start $(TESTSTATE)
	$(call step,1,tools)
	@$(MAKE) tools
	$(call step,2,lint: go mod tidy -diff; golangci-lint; linkcheck; govulncheck (minutes: silent unless a finding))
	@$(MAKE) lint
	$(call step,3,build: the functions for linux/arm64)
	@$(MAKE) build
	$(call step,4,go test ./... (progress every 30 s on stderr))
	@# cgo for internal/devkit/athenacheck (DuckDB, test-only); the functions build without it (see build).
	@CGO_ENABLED=1 $(GO) test -json -count=1 -timeout 40m ./... 2>&1 | $(TESTSUM) gotest -state $(TESTSTATE) -total $$($(GO) list ./... | wc -l)
	$(call step,5,go test -race -short ./shared/... (the runtime under the race detector))
	@# -short skips the exhaustive single-goroutine tables the run above covers.
	@CGO_ENABLED=1 $(GO) test -json -race -short -count=1 -timeout 20m ./shared/... 2>&1 | $(TESTSUM) gotest -state $(TESTSTATE) -label 'go test -race' -race -total $$($(GO) list ./shared/... | wc -l)
	$(call step,6,fuzz: $(words $(FUZZ)) targets for $(FUZZTIME) each)
	@$(MAKE) fuzz LONGFUZZ=$(FUZZTIME)
	@$(TESTSUM) add $(TESTSTATE) 'fuzz targets' $(words $(FUZZ))
	$(call step,7,synth and synth-regions (the CDK app under jsii: a few minutes))
	@$(MAKE) synth
	@$(MAKE) synth-regions
	$(call step,8,cfn-lint)
	@$(MAKE) cfn-lint
	@$(TESTSUM) add $(TESTSTATE) 'templates linted' $$(ls cdk.out/*.template.json cdk.out.regions/*.template.json | wc -l)
	@$(TESTSUM) report $(TESTSTATE)

# The fuzz targets make fuzz runs, as package:target (go test -fuzz takes one per run).
FUZZ := ./shared/subscription:FuzzDecode ./shared/subscription:FuzzDecodeJSON ./shared/invocation:FuzzParse ./shared/routes:FuzzParse

.PHONY: fuzz
fuzz: ## fuzz the decoders: gzip payloads, their JSON, Lambda's envelope, and the route table parser (LONGFUZZ=5m each)
	@for t in $(FUZZ); do \
	  echo "$(GO) test -run '^$$' -fuzz '^$${t#*:}$$' -fuzztime $(LONGFUZZ) $${t%%:*}"; \
	  $(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(LONGFUZZ) "$${t%%:*}" || exit 1; \
	done

.PHONY: fuzz-all
fuzz-all: fuzz ## fuzz the decoders, the JSON writers (escaper, NDJSON, PutLogEvents and PutRecordBatch bodies vs the SDK's), extractedFields compaction, sequence-number order
	$(GO) test -run '^$$' -fuzz '^FuzzAppend$$' -fuzztime $(LONGFUZZ) ./shared/jsonstr
	$(GO) test -run '^$$' -fuzz '^FuzzAppendString$$' -fuzztime $(LONGFUZZ) ./shared/record
	$(GO) test -run '^$$' -fuzz '^FuzzAppendPutLogEventsMatchesSDK$$' -fuzztime $(LONGFUZZ) ./shared/sink/logssink
	$(GO) test -run '^$$' -fuzz '^FuzzFastPutMatchesSDK$$' -fuzztime $(LONGFUZZ) ./shared/sink/firehosesink
	$(GO) test -run '^$$' -fuzz '^FuzzAppendCompact$$' -fuzztime $(LONGFUZZ) ./shared/subscription
	$(GO) test -run '^$$' -fuzz '^FuzzCompareSequenceNumbers$$' -fuzztime $(LONGFUZZ) ./shared/invocation

.PHONY: bench
bench: ## benchmarks on one core, with benchstat tables (baseline vs logfan in the same run)
	@test -x $(BENCHSTAT) || $(GO) install golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION)
	@mkdir -p bench
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1 -count $(BENCHCOUNT) ./shared/... | tee bench/latest.txt
	$(BENCHSTAT) -col /impl bench/latest.txt || $(BENCHSTAT) bench/latest.txt

# The cost table: the sinks' whole paths (decode-only and naive beside them) and
# the peak heap of a 6 MB invocation, priced per TB of log JSON (docs/performance.md,
# "Performance and cost"). Not part of make test: the benchmarks take minutes.
COSTMEMORY ?= 512
.PHONY: cost
cost: ## what a TB of log JSON costs per sink (Lambda from measured CPU, stream, Firehose/Logs ingestion) and the memory size it supports (COSTMEMORY=512, the stack's default)
	@mkdir -p bench
	$(GO) test -run '^$$' -bench '^Benchmark(Pipeline|LogsPipeline)$$' -benchmem -cpu 1 -count $(BENCHCOUNT) ./shared/sink/s3sink ./shared/sink/firehosesink ./shared/sink/logssink | tee bench/cost.txt
	$(GO) test -run '^$$' -bench '^BenchmarkPeakHeap$$' -benchtime 10x -cpu 1 -count 1 ./shared/app | tee -a bench/cost.txt
	$(GO) run ./internal/devkit/cost -memory $(COSTMEMORY) bench/cost.txt | tee bench/cost.md

# cdk_quiet runs a CDK CLI command without two lines nobody can act on:
# jsii-runtime-go's "Runtime process exited abnormally: waitid: no child
# processes" (two of its goroutines wait for the same node process; the
# second finds it reaped: the exit was normal), and the validation report's
# "Acknowledge with 'Annotation::logfan:...'" under logfan's own warnings
# (acknowledging is done in the app's code; the warning itself stays). The
# command's exit status is kept (pipefail), its stdout untouched.
cdk_quiet = { $(1) 2>&1 1>&3 | sed -u -e 's/Runtime process exited abnormally: waitid: no child processes//' -e "/^ *Acknowledge with 'Annotation::logfan:/d" >&2; } 3>&1

.PHONY: synth
synth: tools build ## synthesize the CloudFormation templates into cdk.out (offline, no credentials): make synth [CDK_ARGS='-c senderAccounts=...']
	$(call cdk_quiet,AWS_EC2_METADATA_DISABLED=true $(CDK) synth --quiet $(CDK_ARGS))

.PHONY: synth-regions
synth-regions: tools build ## synthesize with regional destination stacks (destinationRegions=$(REGIONS_CHECK)) into cdk.out.regions, offline
	$(call cdk_quiet,AWS_EC2_METADATA_DISABLED=true $(CDK) synth --quiet -o cdk.out.regions -c destinationRegions=$(REGIONS_CHECK) -c senderAccounts=111111111111 $(CDK_ARGS))

# The regional templates are linted when synth-regions has written them.
.PHONY: cfn-lint
cfn-lint: ## lint every synthesized template in cdk.out and cdk.out.regions (run make synth / synth-regions first)
	cfn-lint $$(ls cdk.out/*.template.json cdk.out.regions/*.template.json 2>/dev/null)

# --no-previous-parameters: otherwise a changed senderAccounts in context
# would not replace the parameter value of the last deploy. --all deploys the
# recipient stack, then each regional destination stack (destinationRegions),
# which depend on it; the context's senders are every stack's parameter
# default, and SENDER_ACCOUNTS (a --parameters value without a stack prefix)
# reaches every stack too.
.PHONY: deploy
deploy: tools build ## deploy every stack: make deploy CDK_ARGS='-c account=... -c region=... -c senderAccounts=111111111111 [-c destinationRegions=eu-west-1,...]' [SENDER_ACCOUNTS=...]
	$(call cdk_quiet,$(CDK) deploy --all --no-previous-parameters --require-approval broadening $(if $(SENDER_ACCOUNTS),--parameters SenderAccounts=$(SENDER_ACCOUNTS)) $(CDK_ARGS))

.PHONY: clean
clean: ## remove build outputs
	rm -rf $(BUILD) cdk.out cdk.out.regions bench events/generated

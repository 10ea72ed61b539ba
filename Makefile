# ssoctl — see README.md. `make test` is what CI runs.
GO        ?= go
BIN       ?= bin/ssoctl
FUZZTIME  ?= 30s
# Build info carries the commit only when VCS stamping is on (GOFLAGS may turn it off).
# -s -w: a smaller binary starts faster (inspect's whole-process latency is benchmarked).
# CGO_ENABLED=0: a static binary skips the dynamic loader, about 1 ms of every run (bench/startup.sh).
LDFLAGS   := -s -w
GOBUILD   := CGO_ENABLED=0 $(GO) build -buildvcs=auto -trimpath -ldflags '$(LDFLAGS)'
STATICCHECK_VERSION := v0.8.2

.PHONY: build install test unit integration lint demo testbed-up testbed-down fuzz bench clean

build:
	$(GOBUILD) -o $(BIN) ./cmd/ssoctl

install:
	CGO_ENABLED=0 $(GO) install -buildvcs=auto -trimpath -ldflags '$(LDFLAGS)' ./cmd/ssoctl

# Unit tests, then the real testbed, then the integration tests against it.
test: unit testbed-up integration

unit:
	$(GO) test -race -count=1 ./...

integration:
	$(GO) test -race -count=1 -tags integration -run '^TestIntegration' -timeout 30m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

testbed-up:
	testbed/up

testbed-down:
	testbed/down

demo: build testbed-up
	testbed/demo $(BIN)

fuzz:
	@$(GO) list -f '{{.ImportPath}} {{.Dir}}' ./... | while read pkg dir; do \
		for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | cut -d' ' -f2); do \
			echo "== $$pkg $$f ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

# Unit benchmarks, then the ones against the testbed (request counts, apply times).
bench: testbed-up
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) test -tags integration -run '^$$' -bench Integration -benchtime 3x -timeout 30m ./...

clean:
	rm -rf bin

# clearline — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
GO    ?= go

.PHONY: run build test test-deps vet bench corpus model detect-eval clean

## run: start the guard with its embedded defaults (SIP 127.0.0.1:5060, HTTP 127.0.0.1:8080)
run:
	$(GO) run ./cmd/clearline run

build:
	$(GO) build -o bin/clearline ./cmd/clearline

## test-deps: install what the tests drive (SIPp from Debian's sip-tester) when missing
test-deps:
	@command -v sipp >/dev/null || { echo "installing sip-tester (SIPp)..."; \
	  (apt-get update -qq || sudo apt-get update -qq) && \
	  (apt-get install -y -qq sip-tester || sudo apt-get install -y -qq sip-tester); }

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	@$(GO) mod tidy -diff >/dev/null || { echo "go mod tidy would change go.mod/go.sum"; exit 1; }

## test: every test — unit, fuzz seeds, end-to-end with SIPp — under the race detector
test: test-deps vet
	$(GO) test -race -count=1 -timeout 20m ./...

## bench: Go benchmarks, then SIPp load through the guard against SIPp end to end
bench: test-deps build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	./scripts/bench.sh

## corpus: regenerate the detector's labelled corpus (testdata/detect, deterministic)
corpus:
	$(GO) run ./internal/detect/corpusgen -out testdata/detect

## model: retrain the detector's model from the committed corpus (bit-for-bit reproducible)
model:
	$(GO) run ./internal/detect/train -corpus testdata/detect/train.jsonl -out internal/detect/model.json

## detect-eval: the detector's figures on the dev split (never trained on)
detect-eval:
	$(GO) run ./cmd/clearline detect --eval testdata/detect/dev.jsonl

clean:
	rm -rf bin artifacts clearline-data

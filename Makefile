# clearline — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
GO    ?= go

.PHONY: run run-deps build test test-deps vet bench corpus model lm detect-eval voice-bench listen-eval claim-eval claim-dict clean

# Debian packages: the speech recogniser the guard embeds (cgo), and what the tests drive.
RUN_PKGS  := pkg-config libpocketsphinx-dev pocketsphinx-en-us
# The voices of the listening tests and bench (espeak-ng, flite, festival), and real recorded
# voices (pocketsphinx-testdata).
VOICE_PKGS := espeak-ng flite festival festvox-kallpc16k festvox-us-slt-hts pocketsphinx-testdata
TEST_PKGS := $(RUN_PKGS) $(VOICE_PKGS) sip-tester sox chromium postgresql
apt_install = missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing Debian packages:" $$missing; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; fi

## run: start the guard with its embedded defaults (SIP 127.0.0.1:5060, HTTP 127.0.0.1:8080)
run: run-deps
	$(GO) run ./cmd/clearline run

## run-deps: install pocketsphinx (library and en-us model) when missing
run-deps:
	@$(call apt_install,$(RUN_PKGS))

build: run-deps
	$(GO) build -o bin/clearline ./cmd/clearline

## test-deps: install what the tests drive (SIPp, espeak-ng, sox, pocketsphinx, Chromium and
## playwright-core for the browser tests) when missing
test-deps:
	@$(call apt_install,$(TEST_PKGS))
	@test -d e2e/browser/node_modules/playwright-core || { echo "installing playwright-core (npm ci)..."; \
	  npm ci --prefix e2e/browser --no-audit --no-fund --silent; }

vet:
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/clearline # builds without cgo too (recogniser: none or external)
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

## lm: rebuild pocketsphinx's domain model from the detector's corpus (deterministic)
lm:
	$(GO) run ./internal/speech/sphinx/lmgen

## voice-bench: the voice bench (testdata/voices spoken by every voice of voices.Bench down a
## telephone line) in artifacts/voice-bench, Debian's real voices in artifacts/real-voices, and
## the shipped recogniser's figures on both (`clearline listen --eval`)
voice-bench: test-deps
	$(GO) run ./internal/speech/voices/benchgen -out artifacts/voice-bench -real artifacts/real-voices
	$(GO) run ./cmd/clearline listen --eval artifacts/voice-bench | tee artifacts/voice-bench.txt
	$(GO) run ./cmd/clearline listen --eval artifacts/real-voices | tee artifacts/real-voices.txt

## listen-eval: recogniser settings side by side on the voice bench and the real voices, the
## first column today's shipped setting (make voice-bench first)
LISTEN_SETTINGS ?= -setting shipped-2026-11=domain -setting mixed=mixed
listen-eval: test-deps
	$(GO) run ./internal/speech/sphinx/listeneval $(LISTEN_SETTINGS) | tee artifacts/listen-eval.txt

## claim-eval: asking callers who they are, on the voice bench: organisations, ID numbers,
## answers outside the grammar, CPU and the time before the phone rings
claim-eval: test-deps
	$(GO) run ./internal/claim/claimeval

## claim-dict: rebuild the British pronunciations of the claim grammars' words (espeak-ng)
claim-dict:
	$(GO) run ./internal/claim/britishgen

## detect-eval: the detector's figures on the dev split (never trained on)
detect-eval:
	$(GO) run ./cmd/clearline detect --eval testdata/detect/dev.jsonl

clean:
	rm -rf bin artifacts clearline-data

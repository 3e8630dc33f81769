# clearline — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
GO    ?= go

.PHONY: run run-deps build test test-deps vet bench corpus real-train model soundalike lm detect-eval detect-real voice-bench listen-eval package package-deps install-test claim-eval claim-dict adapt clean

# Debian packages: the speech recogniser the guard embeds (cgo), and what the tests drive.
RUN_PKGS  := pkg-config libpocketsphinx-dev pocketsphinx-en-us
# The voices of the listening tests and bench (espeak-ng, flite, festival), and real recorded
# voices (pocketsphinx-testdata).
VOICE_PKGS := espeak-ng flite festival festvox-kallpc16k festvox-us-slt-hts pocketsphinx-testdata
TEST_PKGS := $(RUN_PKGS) $(VOICE_PKGS) sip-tester sox chromium postgresql iptables iproute2 curl baresip-core kamailio
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
	cd third_party/sipgo && $(GO) vet ./sip/

## test: every test — unit, fuzz seeds, end-to-end with SIPp — under the race detector
test: test-deps vet
	$(GO) test -race -count=1 -timeout 30m ./... # e2e alone takes about 20 minutes here
	cd third_party/sipgo && $(GO) test -count=1 -timeout 5m ./sip/ # the SIP library as patched (PATCHES.md)

## bench: Go benchmarks, then SIPp load through the guard against SIPp end to end
bench: test-deps build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	./scripts/bench.sh

## corpus: regenerate the detector's labelled corpus (testdata/detect, deterministic)
corpus:
	$(GO) run ./internal/detect/corpusgen -out testdata/detect

## real-train: copy the trainable real calls of ../shared/data/detect/dev-real.jsonl's analysis half
## (public-domain robocalls, MIT STAR dialogues) to testdata/detect/real-train.jsonl
real-train:
	$(GO) run ./internal/detect/train -extract-real ../shared/data/detect/dev-real.jsonl

## model: retrain the detector's model from the committed corpora (bit-for-bit reproducible)
model:
	$(GO) run ./internal/detect/train

## soundalike: rebuild the detector's sound-alike table from Debian's pronouncing dictionary
soundalike: run-deps
	$(GO) run ./internal/detect/soundalikegen

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
LISTEN_SETTINGS ?= -setting shipped-2026-11=domain,nbest=0 -setting shipped=domain -setting mixed=mixed
listen-eval: test-deps
	$(GO) run ./internal/speech/sphinx/listeneval $(LISTEN_SETTINGS) | tee artifacts/listen-eval.txt

## claim-eval: asking callers who they are, on the voice bench: organisations, ID numbers,
## answers outside the grammar, CPU and the time before the phone rings
claim-eval: test-deps
	$(GO) run ./internal/claim/claimeval

## adapt: adapt the acoustic model to the telephone line (MLLR, sphinxtrain) from voices not on
## the bench, and measure it on Debian's real voices beside the model as shipped
ADAPT_PKGS := sphinxtrain sphinxbase-utils festvox-kdlpc16k
adapt: test-deps
	@$(call apt_install,$(ADAPT_PKGS))
	scripts/adapt.sh

## claim-dict: rebuild the British pronunciations of the claim grammars' words (espeak-ng)
claim-dict:
	$(GO) run ./internal/claim/britishgen

## detect-eval: the detector's figures on the dev split (never trained on)
detect-eval:
	CGO_ENABLED=0 $(GO) run ./cmd/clearline detect --eval testdata/detect/dev.jsonl

## detect-real: the detector's figures on the developers' real calls (../shared/data, not in the
## repository): all of them, the part never read (B2), and at 30% and 50% simulated word error
detect-real: run-deps
	CGO_ENABLED=0 $(GO) build -o bin/clearline-nocgo ./cmd/clearline
	bin/clearline-nocgo detect --eval ../shared/data/detect/dev-real.jsonl
	bin/clearline-nocgo detect --eval ../shared/data/detect/dev-real.jsonl --part B2 | head -4
	bin/clearline-nocgo detect --eval ../shared/data/detect/dev-real.jsonl --wer 0.3 | head -5
	bin/clearline-nocgo detect --eval ../shared/data/detect/dev-real.jsonl --wer 0.5 | head -5

## package: Debian packages for amd64 and arm64 in dist/ (nfpm, pinned in go.mod as a tool);
## arm64 is cross-built with cgo against Debian's arm64 pocketsphinx (multiarch)
VERSION ?= 0.1.0
ARM64_PKGS := crossbuild-essential-arm64 libpocketsphinx-dev:arm64
package: run-deps package-deps
	@mkdir -p dist/build/amd64 dist/build/arm64
	CGO_ENABLED=1 $(GO) build -trimpath -ldflags '-s -w' -o dist/build/amd64/clearline ./cmd/clearline
	CGO_ENABLED=1 GOARCH=arm64 CC=aarch64-linux-gnu-gcc PKG_CONFIG_PATH= \
	  PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig \
	  $(GO) build -trimpath -ldflags '-s -w' -o dist/build/arm64/clearline ./cmd/clearline
	for arch in amd64 arm64; do \
	  cp dist/build/$$arch/clearline dist/build/clearline && ARCH=$$arch VERSION=$(VERSION) \
	    $(GO) tool nfpm package --config packaging/nfpm.yaml --packager deb --target dist/ || exit 1; \
	done
	@ls -l dist/*.deb

## package-deps: Debian's arm64 cross compiler and arm64 pocketsphinx (adds the arm64 architecture)
package-deps:
	@dpkg --print-foreign-architectures | grep -qx arm64 || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO dpkg --add-architecture arm64 && $$SUDO apt-get update -qq; }
	@$(call apt_install,$(ARM64_PKGS))

## install-test: the packages installed into clean Debian roots (debootstrap) booted with
## systemd (systemd-nspawn), set up, called through with SIPp, rebooted, upgraded and purged;
## the arm64 binary under qemu-user-static.
## Slow (minutes, downloads Debian packages): outside make test. Figures in artifacts/install/.
install-test: package test-deps
	@$(call apt_install,debootstrap systemd-container qemu-user-static curl iproute2)
	VERSION=$(VERSION) scripts/install-test.sh

clean:
	rm -rf bin artifacts clearline-data dist

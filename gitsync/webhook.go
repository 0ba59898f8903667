package gitsync

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// maxWebhookBody bounds the payload the webhook reads (and signs over).
const maxWebhookBody = 1 << 20

// Why a webhook request is refused.
var (
	errNoSignature  = errors.New("no signature header")
	errBadSignature = errors.New("signature does not match")
	errNoSecret     = errors.New("no webhook secret configured")
)

// signatureHeaders are the headers that carry an HMAC-SHA256 of the body,
// in the order they are looked for, with the prefix before the hex digest.
// GitHub and Gitea (1.22+) send X-Hub-Signature-256; older Gitea and Gogs
// send their own headers.
var signatureHeaders = []struct{ name, prefix string }{
	{"X-Hub-Signature-256", "sha256="},
	{"X-Signature-256", "sha256="},
	{"X-Gitea-Signature", ""},
	{"X-Gogs-Signature", ""},
}

// WebhookHandler serves POST /hooks/git for push events of GitHub, Gitea,
// Gogs and GitLab, and any sender that signs like GitHub. A request is
// authenticated by an HMAC-SHA256 of its raw body keyed with secret
// (X-Hub-Signature-256 or X-Signature-256: "sha256=<hex>",
// X-Gitea-Signature or X-Gogs-Signature: "<hex>"), or, for GitLab, which
// does not sign, by X-Gitlab-Token equal to secret; comparisons are
// constant-time. The first of these headers present decides.
//
// An authenticated request gets 202 Accepted and then trigger is called;
// it should only note the request and wake the sync loop. Any push
// triggers, whatever branch or tag it names: a fetch of an unchanged ref
// costs one ref advertisement, and filtering on the payload's ref would
// miss the pushes that matter to a tag or a Rev. A missing or wrong
// signature gets 401 and does nothing; a body over 1 MiB gets 413; a
// method other than POST gets 405. An empty secret refuses every request.
func WebhookHandler(secret []byte, trigger func(), log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxWebhookBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "cannot read payload", http.StatusBadRequest)
			return
		}
		if err := authenticate(secret, req.Header, body); err != nil {
			log.Warn("webhook refused", "remote", req.RemoteAddr, "err", err)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		log.Info("webhook accepted", "remote", req.RemoteAddr, "event", eventName(req.Header))
		w.WriteHeader(http.StatusAccepted)
		trigger()
	})
}

// authenticate checks the request's signature or token against secret.
func authenticate(secret []byte, h http.Header, body []byte) error {
	if len(secret) == 0 {
		return errNoSecret
	}
	for _, sh := range signatureHeaders {
		v := h.Get(sh.name)
		if v == "" {
			continue
		}
		return checkHMAC(secret, body, v, sh.prefix)
	}
	if token := h.Get("X-Gitlab-Token"); token != "" {
		if subtle.ConstantTimeCompare([]byte(token), secret) != 1 {
			return errBadSignature
		}
		return nil
	}
	return errNoSignature
}

// checkHMAC compares the hex HMAC-SHA256 in value (after prefix) with the
// body's.
func checkHMAC(secret, body []byte, value, prefix string) error {
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(value), prefix)
	if !ok {
		return errBadSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return errBadSignature
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errBadSignature
	}
	return nil
}

// eventName is the provider's event header, for the log.
func eventName(h http.Header) string {
	for _, name := range []string{"X-GitHub-Event", "X-Gitea-Event", "X-Gogs-Event", "X-Gitlab-Event"} {
		if v := h.Get(name); v != "" {
			return v
		}
	}
	return ""
}

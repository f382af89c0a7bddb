package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Signature headers.
const (
	HeaderTimestamp = "X-Parley-Timestamp"
	HeaderSignature = "X-Parley-Signature"
)

// Errors returned by Verify.
var (
	// ErrBadSignature: the signature is missing, malformed or wrong.
	ErrBadSignature = errors.New("webhook: bad signature")
	// ErrStaleTimestamp: the timestamp is missing, malformed or outside the tolerance.
	ErrStaleTimestamp = errors.New("webhook: timestamp outside tolerance")
)

// Sign returns the X-Parley-Signature value for a timestamp (decimal unix
// seconds, as sent in X-Parley-Timestamp) and body.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a received request: the signature must be Sign(secret,
// timestamp, body), compared in constant time, and the timestamp within
// tolerance of now (either side) so that a captured request cannot be
// replayed later. It returns ErrStaleTimestamp or ErrBadSignature.
func Verify(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrStaleTimestamp
	}
	if d := now.Sub(time.Unix(secs, 0)); d > tolerance || d < -tolerance {
		return ErrStaleTimestamp
	}
	if !strings.HasPrefix(signature, "sha256=") ||
		!hmac.Equal([]byte(signature), []byte(Sign(secret, timestamp, body))) {
		return ErrBadSignature
	}
	return nil
}

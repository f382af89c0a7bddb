package upload

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// newObjectKey returns prefix/YYYY-MM-DD/<128 random bits in hex>/original.
// Nothing of it comes from the client: file names never reach keys, and the
// random part makes keys unguessable. Workers store variants next to the
// original.
func newObjectKey(prefix string, now time.Time) (string, error) {
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("random key: %w", err)
	}
	return prefix + now.UTC().Format("2006-01-02") + "/" + hex.EncodeToString(r[:]) + "/original", nil
}

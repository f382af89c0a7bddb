package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/internal/testenv"
)

// plainBinary builds cmd/parley without -race: the race detector's shadow
// memory would be measured along with the node's own.
func plainBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "parley")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// procKiB reads a /proc/PID/status field (VmHWM: peak RSS) in KiB.
func procKiB(t *testing.T, pid int, field string) int {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("%s: %q: %v", field, line, err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// TestLoginFloodStaysUnder200MiB sends 128 logins at once to a serve node,
// half for a real user and half for unknown ones, at the production argon2id
// cost. Every answer is the right one (200, 401, or 429 with Retry-After
// when the hashing slots stay busy) and the node's peak RSS stays under
// 200 MiB; unbounded, the same flood took it past 4 GB.
func TestLoginFloodStaysUnder200MiB(t *testing.T) {
	const logins = 128
	env := []string{
		"PARLEY_DATABASE_URL=" + testenv.Postgres(t),
		"PARLEY_REDIS_URL=" + testenv.Redis(t),
		"PARLEY_JWT_SECRET=" + strings.Repeat("e2e-secret-", 4),
		"PARLEY_AUTH_PER_MINUTE=-1",
		"PARLEY_LOG_LEVEL=warn",
	}
	node := startBin(t, plainBinary(t), env, nil, "serve", "-addr", "127.0.0.1:0")
	register(t, node.URL, "flood")

	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[int]int{}
	for i := 0; i < logins; i++ {
		username, want := "flood", http.StatusOK
		if i%2 == 1 {
			username, want = fmt.Sprintf("nobody%d", i), http.StatusUnauthorized
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]string{"username": username, "password": "correct horse battery"})
			resp, err := http.Post(node.URL+"/v1/auth/login", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Errorf("login %s: %v", username, err)
				return
			}
			resp.Body.Close()
			switch {
			case resp.StatusCode == want:
			case resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "":
			default:
				t.Errorf("login %s: got status %d (Retry-After %q), want %d or 429 with Retry-After",
					username, resp.StatusCode, resp.Header.Get("Retry-After"), want)
			}
			mu.Lock()
			counts[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	peak := procKiB(t, node.cmd.Process.Pid, "VmHWM")
	t.Logf("answers by status: %v; peak RSS %d MiB", counts, peak/1024)
	if peak >= 200*1024 {
		t.Fatalf("peak RSS under %d concurrent logins: got %d MiB, want < 200 MiB", logins, peak/1024)
	}
	if counts[http.StatusOK] == 0 {
		t.Fatalf("no login succeeded: %v", counts)
	}
}

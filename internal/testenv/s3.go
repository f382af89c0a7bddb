package testenv

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// S3Server is a versitygw process serving a posix directory over the S3 API.
// It enforces SigV4 signatures, presign expiry and POST-policy conditions,
// which is what Parley's presigned uploads rely on.
type S3Server struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	Region    string
	Dir       string

	tb  testing.TB
	bin string
	mu  sync.Mutex
	cmd *exec.Cmd
}

// VersitygwBinary finds versitygw on PATH or in GOPATH/bin (PARLEY_VERSITYGW overrides).
func VersitygwBinary() (string, error) {
	if p := os.Getenv("PARLEY_VERSITYGW"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("versitygw not found on PATH or in $(go env GOPATH)/bin; run deploy/deps.sh " +
		"(go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
}

// S3 starts versitygw for tb on a free loopback port with an empty data
// directory and stops it when tb ends.
func S3(tb testing.TB) *S3Server {
	tb.Helper()
	bin, err := VersitygwBinary()
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	s := &S3Server{
		Endpoint:  "127.0.0.1:" + fmt.Sprint(FreePort(tb)),
		AccessKey: "parleytest",
		SecretKey: "parleytestsecret" + randomHex(8),
		Region:    "us-east-1",
		Dir:       tb.TempDir(),
		tb:        tb,
		bin:       bin,
	}
	s.Start()
	tb.Cleanup(s.Stop)
	return s
}

// Start (re)starts the server on its port and directory; it returns once
// the server answers its health check.
func (s *S3Server) Start() {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	data := filepath.Join(s.Dir, "data")
	side := filepath.Join(s.Dir, "sidecar")
	for _, d := range []string{data, side} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			s.tb.Fatalf("testenv: %v", err)
		}
	}
	cmd := exec.Command(s.bin, "--port", s.Endpoint, "--access", s.AccessKey, "--secret", s.SecretKey,
		"--region", s.Region, "--health", "/health", "posix", "--sidecar", side, data)
	logf, err := os.Create(filepath.Join(s.Dir, "versitygw.log"))
	if err != nil {
		s.tb.Fatalf("testenv: %v", err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("testenv: start versitygw: %v", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + s.Endpoint + "/health")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(30 * time.Millisecond)
	}
	log, _ := os.ReadFile(logf.Name())
	s.tb.Fatalf("testenv: versitygw did not become healthy on %s:\n%s", s.Endpoint, log)
}

// Stop kills the server (its data stays for a later Start).
func (s *S3Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testenv: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// The end-to-end tests run the real binary as separate processes, the way
// operators run it. The binary is built once per test run.
var parleyBin = struct {
	once sync.Once
	path string
	err  error
}{}

// binary builds cmd/parley (with -race when the tests run with it) and
// returns its path.
func binary(t *testing.T) string {
	t.Helper()
	parleyBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "parley-e2e-bin")
		if err != nil {
			parleyBin.err = err
			return
		}
		parleyBin.path = filepath.Join(dir, "parley")
		args := []string{"build", "-o", parleyBin.path}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, ".")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			parleyBin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if parleyBin.err != nil {
		t.Fatalf("build parley: %v", parleyBin.err)
	}
	return parleyBin.path
}

// proc is a running parley process.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	URL  string // http://127.0.0.1:port for serve/dev
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
}

var listenRE = regexp.MustCompile(`listening on (http://\S+)`)

// start runs `parley args...` with env added to the test's environment and
// waits until it prints a line matching ready (nil: the listening line).
func start(t *testing.T, env []string, ready *regexp.Regexp, args ...string) *proc {
	t.Helper()
	return startBin(t, binary(t), env, ready, args...)
}

// startBin is start with a given parley binary.
func startBin(t *testing.T, bin string, env []string, ready *regexp.Regexp, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(cleanEnv(), env...)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.logs.Write(b)
	})
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start parley %v: %v", args, err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		p.cmd.Wait()
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("logs of parley %v:\n%s", args, p.Logs())
		}
	})
	if ready == nil {
		ready = listenRE
	}
	timeout := time.After(60 * time.Second)
	for {
		select {
		case line := <-lines:
			if m := listenRE.FindStringSubmatch(line); m != nil {
				p.URL = m[1]
			}
			if ready.MatchString(line) {
				return p
			}
		case <-p.done:
			t.Fatalf("parley %v exited before it was ready:\n%s", args, p.Logs())
		case <-timeout:
			t.Fatalf("parley %v not ready after 60s:\n%s", args, p.Logs())
		}
	}
}

// Stop sends SIGTERM and waits for the process to exit.
func (p *proc) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Kill sends SIGKILL (a crash) and waits for the process to go.
func (p *proc) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Logs returns what the process wrote to stderr so far.
func (p *proc) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// client is a test user talking to one node over REST.
type client struct {
	t     *testing.T
	base  string
	token string
	User  struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Role     string `json:"role"`
	}
}

// register creates a user on the node at base and returns a client for it.
func register(t *testing.T, base, username string) *client {
	t.Helper()
	c := &client{t: t, base: base}
	var out struct {
		User        json.RawMessage `json:"user"`
		AccessToken string          `json:"access_token"`
	}
	c.do("POST", "/v1/auth/register", map[string]any{
		"username": username, "password": "correct horse battery", "display_name": strings.ToUpper(username),
	}, http.StatusCreated, &out)
	if err := json.Unmarshal(out.User, &c.User); err != nil {
		t.Fatalf("register %s: user: %v", username, err)
	}
	c.token = out.AccessToken
	return c
}

// login returns a client for an existing user.
func login(t *testing.T, base, username, password string) *client {
	t.Helper()
	c := &client{t: t, base: base}
	var out struct {
		User        json.RawMessage `json:"user"`
		AccessToken string          `json:"access_token"`
	}
	c.do("POST", "/v1/auth/login", map[string]any{"username": username, "password": password}, http.StatusOK, &out)
	if err := json.Unmarshal(out.User, &c.User); err != nil {
		t.Fatalf("login %s: user: %v", username, err)
	}
	c.token = out.AccessToken
	return c
}

// on returns a copy of c that talks to another node with the same token.
func (c *client) on(base string) *client {
	cc := *c
	cc.base = base
	return &cc
}

// do sends a JSON request and decodes the JSON reply into out, failing the
// test unless the status is want.
func (c *client) do(method, path string, body any, want int, out any) {
	c.t.Helper()
	status, raw := c.request(method, path, body)
	if status != want {
		c.t.Fatalf("%s %s: got status %d, want %d; body: %s", method, path, status, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

func (c *client) request(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	httpc := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := httpc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// socket is a client's WebSocket, with frames read in the background.
type socket struct {
	t      *testing.T
	conn   *websocket.Conn
	frames chan map[string]any
	closed chan error
}

// dial opens the client's WebSocket on its node and waits for hello.
func (c *client) dial() *socket {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(c.base, "http") + "/v1/ws"
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + c.token}},
	})
	if err != nil {
		c.t.Fatalf("dial %s: %v", wsURL, err)
	}
	conn.SetReadLimit(1 << 20)
	s := &socket{t: c.t, conn: conn, frames: make(chan map[string]any, 256), closed: make(chan error, 1)}
	go func() {
		for {
			var f map[string]any
			if err := wsjson.Read(context.Background(), conn, &f); err != nil {
				s.closed <- err
				close(s.frames)
				return
			}
			s.frames <- f
		}
	}()
	c.t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	hello := s.expect("hello", nil)
	if hello["user_id"] != c.User.ID {
		c.t.Fatalf("hello user_id: got %v, want %s", hello["user_id"], c.User.ID)
	}
	return s
}

// send writes one frame.
func (s *socket) send(frame map[string]any) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, s.conn, frame); err != nil {
		s.t.Fatalf("write %v: %v", frame["type"], err)
	}
}

// expect waits for the next frame of type typ for which match (if any)
// returns true, skipping others, and fails after 15 s.
func (s *socket) expect(typ string, match func(map[string]any) bool) map[string]any {
	s.t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case f, ok := <-s.frames:
			if !ok {
				s.t.Fatalf("socket closed while waiting for %q", typ)
			}
			if f["type"] == typ && (match == nil || match(f)) {
				return f
			}
		case <-timeout:
			s.t.Fatalf("no %q frame within 15s", typ)
		}
	}
}

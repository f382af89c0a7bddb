package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/hibiken/asynq"

	"github.com/parley-chat/parley/internal/redisconn"
	"github.com/parley-chat/parley/internal/testenv"
)

// TestRedisSentinelFailover is the failover drill of docs/operations.md
// ("Redis high availability"): two chat nodes and a worker on a Sentinel
// group (a master, a replica, three sentinels, all real processes). The
// master is killed with SIGKILL while alice sends messages and while a
// worker is in the middle of a long voice note with a photo queued behind
// it. After the sentinels promote the replica: bob's socket was closed with
// the documented 1013 "resync", he reconnects and catches up with every message
// alice was acknowledged, new messages reach him live across nodes again,
// and both media jobs finish.
func TestRedisSentinelFailover(t *testing.T) {
	t.Parallel() // mostly waits: on the sentinels, on the voice encode
	g := testenv.Sentinel(t)
	redisURL := g.URL(0)
	rc, err := redisconn.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	s3 := testenv.S3(t)
	env := []string{
		"PARLEY_DATABASE_URL=" + testenv.Postgres(t),
		"PARLEY_REDIS_URL=" + redisURL,
		"PARLEY_JWT_SECRET=" + strings.Repeat("failover-", 4),
		"PARLEY_S3_ENDPOINT=" + s3.Endpoint,
		"PARLEY_S3_BUCKET=parley",
		"PARLEY_S3_ACCESS_KEY=" + s3.AccessKey,
		"PARLEY_S3_SECRET_KEY=" + s3.SecretKey,
		"PARLEY_S3_REGION=" + s3.Region,
		"PARLEY_LOG_LEVEL=warn",
		"PARLEY_METRICS_ADDR=127.0.0.1:0",
		"PARLEY_WORKER_CONCURRENCY=1", // the photo waits behind the voice note
		"PARLEY_MESSAGES_PER_SECOND=-1",
	}
	nodeA := start(t, env, nil, "serve", "-addr", "127.0.0.1:0")
	nodeB := start(t, env, nil, "serve", "-addr", "127.0.0.1:0")
	start(t, env, workerReadyRE, "worker")

	alice := register(t, nodeA.URL, "alice")
	bob := register(t, nodeB.URL, "bob")
	var conv struct {
		Conversation struct {
			ID string `json:"id"`
		} `json:"conversation"`
	}
	alice.do("POST", "/v1/conversations", map[string]any{"member_ids": []string{bob.User.ID}, "title": "drill"},
		http.StatusCreated, &conv)
	convID := conv.Conversation.ID
	bs := bob.dial()
	send := func(clientID string) (seq int, ok bool) {
		status, raw := alice.request("POST", "/v1/conversations/"+convID+"/messages",
			map[string]any{"client_id": clientID, "body": clientID})
		if status != http.StatusCreated {
			return 0, false
		}
		fmt.Sscanf(string(raw[strings.Index(string(raw), `"seq":`)+6:]), "%d", &seq)
		return seq, true
	}
	if _, ok := send("before-1"); !ok {
		t.Fatal("send before the failover failed")
	}
	bs.expect("message", messageField("body", "before-1"))

	// A long voice note in progress, a photo queued behind it.
	insp := asynq.NewInspector(rc.Asynq())
	defer insp.Close()
	m := &mediaStack{t: t, s3: s3, conv: convID}
	voice := m.upload(alice, "voice", "audio/mp4", "long.m4a", readCorpus(t, "voice14min.m4a"))
	waitTask(t, insp, "voice", voice, asynq.TaskStateActive, 30*time.Second)
	photo := m.upload(alice, "image", "image/jpeg", "photo.jpg", readCorpus(t, "photo12mp.jpg"))
	waitTask(t, insp, "image", photo, asynq.TaskStatePending, 10*time.Second)

	// Alice keeps sending over HTTP through the whole failover.
	var mu sync.Mutex
	acked := map[int]string{}
	failed := 0
	stop := make(chan struct{})
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			id := fmt.Sprintf("during-%d", i)
			seq, ok := send(id)
			mu.Lock()
			if ok {
				acked[seq] = id
			} else {
				failed++
			}
			mu.Unlock()
		}
	}()
	time.Sleep(500 * time.Millisecond)
	waitTask(t, insp, "voice", voice, asynq.TaskStateActive, time.Second) // still mid-job

	old := g.KillMaster()
	killed := time.Now()
	promoted := g.WaitFailover(old, 30*time.Second)
	tFailover := time.Since(killed)

	// Bob's node lost its bus subscription: it closes his socket so he
	// reconnects and catches up.
	var closeErr error
	select {
	case closeErr = <-bs.closed:
	case <-time.After(30 * time.Second):
		t.Fatal("bob's socket was not closed after the failover")
	}
	tClosed := time.Since(killed)
	var ce websocket.CloseError
	if !errors.As(closeErr, &ce) || ce.Code != websocket.StatusTryAgainLater || ce.Reason != "resync" {
		t.Errorf("bob's socket closed with %v, want 1013 \"resync\" (docs/protocol.md)", closeErr)
	}
	time.Sleep(2 * time.Second) // alice goes on sending on the new master
	close(stop)
	<-sent

	// Catch up: every message alice was acknowledged is there, in order.
	bs = bob.dial()
	var hist struct {
		Messages []struct {
			Seq      int    `json:"seq"`
			ClientID string `json:"client_id"`
		} `json:"messages"`
	}
	bob.do("GET", "/v1/conversations/"+convID+"/messages?after=1&limit=200", nil, http.StatusOK, &hist)
	got := map[int]string{}
	for _, msg := range hist.Messages {
		got[msg.Seq] = msg.ClientID
	}
	mu.Lock()
	for seq, id := range acked {
		if got[seq] != id {
			t.Errorf("acknowledged message %s (seq %d) missing after the failover: got %q", id, seq, got[seq])
		}
	}
	nAcked, nFailed := len(acked), failed
	mu.Unlock()
	if nAcked == 0 {
		t.Error("no message was acknowledged during the drill")
	}

	// Live again across nodes.
	if _, ok := send("after-1"); !ok {
		t.Fatal("send after the failover failed")
	}
	bs.expect("message", messageField("body", "after-1"))
	tLive := time.Since(killed)

	// The running voice note and the queued photo both finish.
	for _, a := range []struct{ id, queue string }{{voice, "voice"}, {photo, "image"}} {
		waitReady(t, alice, a.id, 90*time.Second)
		// The row turns ready inside the handler; asynq marks the task
		// completed only after the handler returns, and a completion that
		// was written to the dead master comes back as an active task
		// whose lease expires, runs again (idempotently) and completes.
		// So the task must end completed, not be completed at once.
		var state asynq.TaskState
		for deadline := time.Now().Add(100 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			info, err := insp.GetTaskInfo(a.queue, a.id)
			if err != nil {
				break // completed and already deleted: retention is zero
			}
			if state = info.State; state == asynq.TaskStateCompleted || time.Now().After(deadline) {
				break
			}
		}
		if state != 0 && state != asynq.TaskStateCompleted {
			t.Errorf("%s task %s: state %v 100 s after its attachment is ready", a.queue, a.id, state)
		}
	}
	tJobs := time.Since(killed)
	t.Logf("drill: master %s killed; %s promoted after %v; bob's socket closed after %v (%d %q); "+
		"live again after %v; %d messages acked during the drill, %d refused; both jobs ready after %v",
		old, promoted, tFailover.Round(time.Millisecond), tClosed.Round(time.Millisecond), ce.Code, ce.Reason,
		tLive.Round(time.Millisecond), nAcked, nFailed, tJobs.Round(time.Millisecond))
}

// waitTask polls asynq until the task is in state.
func waitTask(t *testing.T, insp *asynq.Inspector, queue, id string, state asynq.TaskState, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		info, err := insp.GetTaskInfo(queue, id)
		if err == nil && info.State == state {
			return
		}
		last = fmt.Sprint(info, err)
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("task %s/%s not %v within %v: %s", queue, id, state, timeout, last)
}

// waitReady polls the attachment until it is ready.
func waitReady(t *testing.T, c *client, id string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var a struct {
		Attachment struct {
			Status string `json:"status"`
		} `json:"attachment"`
	}
	raw := []byte{}
	for time.Now().Before(deadline) {
		var status int
		status, raw = c.request("GET", "/v1/attachments/"+id, nil)
		if status == http.StatusOK {
			if err := json.Unmarshal(raw, &a); err == nil && a.Attachment.Status == "ready" {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("attachment %s not ready within %v: %s", id, timeout, raw)
}
